// filter_path as Elasticsearch applies it to responses. The tables come from Elasticsearch's own
// tests (FilterPathGeneratorFilteringTests, AbstractFilteringTestCase,
// AbstractXContentFilteringTestCase) with single quotes for double quotes; where those tests
// expect "" (a bare FilteringGeneratorDelegate), a REST response has `{}`: JsonXContentGenerator
// always writes the root object.
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <string>

#include "esgate/response/es_json.hpp"

namespace response = esgate::response;

namespace {

std::string q(std::string s) {
  for (char& c : s)
    if (c == '\'') c = '"';
  return s;
}

std::string filtered(const std::string& input, const std::string& filter) {
  auto v = response::parse_es(q(input));
  REQUIRE(v);
  response::apply_filter_path(*v, filter);
  return response::serialize_es(*v, false);
}

struct filter_case {
  const char* filter;
  const char* expected;
};

const std::string sample =
    "{'a':0,'b':true,'c':'c_value','d':[0,1,2],'e':[{'f1':'f1_value','f2':'f2_value'},"
    "{'g1':'g1_value','g2':'g2_value'}],'h':{'i':{'j':{'k':{'l':'l_value'}}}}}";
const char* const h_only = "{'h':{'i':{'j':{'k':{'l':'l_value'}}}}}";
const char* const no_h =
    "{'a':0,'b':true,'c':'c_value','d':[0,1,2],'e':[{'f1':'f1_value','f2':'f2_value'},"
    "{'g1':'g1_value','g2':'g2_value'}]}";

}  // namespace

TEST_CASE("filter_path inclusive (FilterPathGeneratorFilteringTests.testInclusiveFilters)") {
  const filter_case cases[] = {
      {"a", "{'a':0}"},
      {"b", "{'b':true}"},
      {"c", "{'c':'c_value'}"},
      {"d", "{'d':[0,1,2]}"},
      {"e", "{'e':[{'f1':'f1_value','f2':'f2_value'},{'g1':'g1_value','g2':'g2_value'}]}"},
      {"h", h_only},
      {"z", "{}"},
      {"e.f1", "{'e':[{'f1':'f1_value'}]}"},
      {"e.f2", "{'e':[{'f2':'f2_value'}]}"},
      {"e.f*", "{'e':[{'f1':'f1_value','f2':'f2_value'}]}"},
      {"e.*2", "{'e':[{'f2':'f2_value'},{'g2':'g2_value'}]}"},
      {"h.i", h_only},
      {"h.i.j", h_only},
      {"h.i.j.k", h_only},
      {"h.i.j.k.l", h_only},
      {"h.*", h_only},
      {"*.i", h_only},
      {"*.i.j", h_only},
      {"h.*.j", h_only},
      {"h.i.*", h_only},
      {"*.i.j.k", h_only},
      {"h.*.j.k", h_only},
      {"h.i.*.k", h_only},
      {"h.i.j.*", h_only},
      {"*.i.j.k.l", h_only},
      {"h.*.j.k.l", h_only},
      {"h.i.*.k.l", h_only},
      {"h.i.j.*.l", h_only},
      {"h.i.j.k.*", h_only},
      {"h.*.j.*.l", h_only},
      {"**.l", h_only},
      {"**.*2", "{'e':[{'f2':'f2_value'},{'g2':'g2_value'}]}"},
      {"h.i.j.k.l,h.i.j.k.l.m", h_only},
      {"a,b,c,d,e.f1,e.f2,e.g1,e.g2,h.i.j.k.l", sample.c_str()},
      // A scalar reached by a partial path is not included; nor are array scalars.
      {"a.x", "{}"},
      {"d.x", "{}"},
      {"*", sample.c_str()},
      {"**", sample.c_str()},
  };
  for (const auto& c : cases) {
    INFO(c.filter);
    CHECK(filtered(sample, c.filter) == q(c.expected));
  }
}

TEST_CASE("filter_path exclusive (FilterPathGeneratorFilteringTests.testExclusiveFilters)") {
  const filter_case cases[] = {
      {"-a",
       "{'b':true,'c':'c_value','d':[0,1,2],'e':[{'f1':'f1_value','f2':'f2_value'},"
       "{'g1':'g1_value','g2':'g2_value'}],'h':{'i':{'j':{'k':{'l':'l_value'}}}}}"},
      {"-d",
       "{'a':0,'b':true,'c':'c_value','e':[{'f1':'f1_value','f2':'f2_value'},"
       "{'g1':'g1_value','g2':'g2_value'}],'h':{'i':{'j':{'k':{'l':'l_value'}}}}}"},
      {"-e", "{'a':0,'b':true,'c':'c_value','d':[0,1,2],'h':{'i':{'j':{'k':{'l':'l_value'}}}}}"},
      {"-h", no_h},
      {"-z", sample.c_str()},
      {"-e.f1",
       "{'a':0,'b':true,'c':'c_value','d':[0,1,2],'e':[{'f2':'f2_value'},"
       "{'g1':'g1_value','g2':'g2_value'}],'h':{'i':{'j':{'k':{'l':'l_value'}}}}}"},
      {"-e.f*",
       "{'a':0,'b':true,'c':'c_value','d':[0,1,2],'e':[{'g1':'g1_value','g2':'g2_value'}],"
       "'h':{'i':{'j':{'k':{'l':'l_value'}}}}}"},
      {"-e.*2",
       "{'a':0,'b':true,'c':'c_value','d':[0,1,2],'e':[{'f1':'f1_value'},{'g1':'g1_value'}],"
       "'h':{'i':{'j':{'k':{'l':'l_value'}}}}}"},
      {"-h.i", no_h},
      {"-h.i.j.k.l", no_h},
      {"-h.*", no_h},
      {"-*.i", no_h},
      {"-h.*.j.*.l", no_h},
      {"-**.l", no_h},
      {"-**.*2",
       "{'a':0,'b':true,'c':'c_value','d':[0,1,2],'e':[{'f1':'f1_value'},{'g1':'g1_value'}],"
       "'h':{'i':{'j':{'k':{'l':'l_value'}}}}}"},
      {"-h.i.j.k.l,-h.i.j.k.l.m", no_h},
      {"-a,-b,-c,-d,-e.f1,-e.f2,-e.g1,-e.g2,-h.i.j.k.l", "{}"},
      // A scalar reached by a partial exclusion path stays; so do array scalars.
      {"-a.x", sample.c_str()},
      {"-d.x", sample.c_str()},
      {"-*", "{}"},
      {"-**", "{}"},
      // `-` alone is an exclusion that matches nothing.
      {"-", sample.c_str()},
  };
  for (const auto& c : cases) {
    INFO(c.filter);
    CHECK(filtered(sample, c.filter) == q(c.expected));
  }
}

TEST_CASE("filter_path escaped dots (testInclusiveFiltersWithDots, testExclusiveFiltersWithDots)") {
  const std::string dotted = "{'a':0,'b.c':'value','b':{'c':'c_value'}}";
  CHECK(filtered(dotted, "b.c") == q("{'b':{'c':'c_value'}}"));
  CHECK(filtered(dotted, "b\\.c") == q("{'b.c':'value'}"));
  CHECK(filtered(dotted, "-b.c") == q("{'a':0,'b.c':'value'}"));
  CHECK(filtered(dotted, "-b\\.c") == q("{'a':0,'b':{'c':'c_value'}}"));
  // Response filtering does not match dotted field names against paths
  // (testDotInIncludedFieldNameUnconfigured and friends).
  CHECK(filtered("{'foo.bar':'test'}", "foo.bar") == "{}");
  CHECK(filtered("{'foo.bar':'test'}", "-foo.bar") == q("{'foo.bar':'test'}"));
  CHECK(filtered("{'foo.bar':'test'}", "f*r") == q("{'foo.bar':'test'}"));
  CHECK(filtered("{'foo.bar':{'baz':'test'}}", "foo.*") == "{}");
  // FilterPath's replaceAll("\\\\.", "."): once a segment has `\.`, every backslash and the
  // character after it become one dot (the regex's `.` is any character).
  CHECK(filtered("{'a..c':1,'a.b.c':2,'a\\\\b.c':3}", "a\\b\\.c") == q("{'a..c':1}"));
  CHECK(filtered("{'a\\\\b':1}", "a\\b") == q("{'a\\\\b':1}"));
  // Leading, doubled and trailing dots.
  CHECK(filtered("{'.a':1,'a':{'':2,'.b':3}}", ".a") == q("{'.a':1}"));
  CHECK(filtered("{'.a':1,'a':{'':2,'.b':3}}", "a..b") == q("{'a':{'.b':3}}"));
  CHECK(filtered("{'.a':1,'a':{'':2,'.b':3}}", "a.") == q("{'a':{'':2}}"));
}

TEST_CASE("filter_path single field objects (testSingleFieldObject, testEmptyObject)") {
  const std::string foo_bar = "{'foo':{'bar':'test'}}";
  CHECK(filtered(foo_bar, "foo.bar") == q(foo_bar));
  CHECK(filtered(foo_bar, "-foo.baz") == q(foo_bar));
  CHECK(filtered(foo_bar, "foo,-foo.baz") == q(foo_bar));
  CHECK(filtered(foo_bar, "-foo.bar") == "{}");
  CHECK(filtered(foo_bar, "foo,-foo.b*") == "{}");

  const std::string empty_foo = "{'foo':{}}";
  CHECK(filtered(empty_foo, "foo") == q(empty_foo));
  CHECK(filtered(empty_foo, "-bar") == q(empty_foo));
  CHECK(filtered(empty_foo, "f*,-baz") == q(empty_foo));
  CHECK(filtered(empty_foo, "-foo") == "{}");
  CHECK(filtered(empty_foo, "bar") == "{}");
  CHECK(filtered(empty_foo, "f*,-foo") == "{}");
  // An empty container the filter is still deciding on is dropped, even by an exclusion.
  CHECK(filtered(empty_foo, "-foo.x") == "{}");
  CHECK(filtered("{'foo':[],'n':1}", "-foo.x") == q("{'n':1}"));
  CHECK(filtered("{'foo':[],'n':1}", "foo") == q("{'foo':[]}"));
  CHECK(filtered("{'foo':[[],[{}],[1]]}", "-foo.x") == q("{'foo':[[1]]}"));
}

TEST_CASE("filter_path arrays (AbstractFilteringTestCase.testArrays)") {
  const std::string values = "{'tags':['lorem','ipsum','dolor']}";
  CHECK(filtered(values, "t*") == q(values));
  CHECK(filtered(values, "tags") == q(values));
  CHECK(filtered(values, "-a") == q(values));
  CHECK(filtered(values, "foo") == "{}");
  CHECK(filtered(values, "-t*") == "{}");
  CHECK(filtered(values, "-tags") == "{}");

  const std::string objects = "{'tags':[{'lastname':'lorem'},{'firstname':'ipsum'}]}";
  CHECK(filtered(objects, "t*") == q(objects));
  CHECK(filtered(objects, "-a") == q(objects));
  CHECK(filtered(objects, "foo") == "{}");
  CHECK(filtered(objects, "-tags") == "{}");
  CHECK(filtered(objects, "t*.firstname") == q("{'tags':[{'firstname':'ipsum'}]}"));
  CHECK(filtered(objects, "-t*.lastname") == q("{'tags':[{'firstname':'ipsum'}]}"));
  // Arrays of arrays do not consume a level either.
  CHECK(filtered("{'a':[[{'b':1,'c':2}],[{'c':3}]]}", "a.b") == q("{'a':[[{'b':1}]]}"));
}

TEST_CASE("filter_path includes and excludes together") {
  const std::string book =
      "{'title':'My awesome book','pages':456,'price':27.99,'properties':{'weight':0.8},"
      "'tags':['elasticsearch','java'],'authors':[{'name':'John Doe','lastname':'Doe'},"
      "{'name':'William Smith','lastname':'Smith'}]}";
  // testSingleFieldWithBothExcludesIncludes
  CHECK(filtered(book, "p*,-properties") == q("{'pages':456,'price':27.99}"));
  // testObjectsInArrayWithBothExcludesIncludes
  CHECK(filtered(book, "tags,authors,-authors.name") ==
        q("{'tags':['elasticsearch','java'],'authors':[{'lastname':'Doe'},{'lastname':'Smith'}]}"));
  // testRecursiveSameObjectWithBothExcludesIncludes
  CHECK(filtered(book, "**.name,-**.name") == "{}");
  CHECK(filtered(book, "authors.*name") ==
        q("{'authors':[{'name':'John Doe','lastname':'Doe'},"
          "{'name':'William Smith','lastname':'Smith'}]}"));
  CHECK(filtered(book, "-authors.*") == q("{'title':'My awesome book','pages':456,"
                                          "'price':27.99,'properties':{'weight':0.8},"
                                          "'tags':['elasticsearch','java']}"));
  // Tokens are trimmed, blanks ignored, `- x` is an exclusion of `x`.
  CHECK(filtered(book, " pages , ,- pages,title") == q("{'title':'My awesome book'}"));
  CHECK(filtered(book, "") == q(book));
  CHECK(filtered(book, " , ,") == q(book));
  // `**` spans at least one level: a top-level `name` is not `**.name`.
  CHECK(filtered("{'name':1,'x':{'name':2}}", "**.name") == q("{'x':{'name':2}}"));
  // The later of `a` and `a.b` does not narrow the other.
  CHECK(filtered("{'a':{'b':1,'c':2}}", "a.b,a") == q("{'a':{'b':1,'c':2}}"));
  CHECK(filtered("{'a':{'b':1,'c':2}}", "a,a.b") == q("{'a':{'b':1,'c':2}}"));
  // Globs: `*` anywhere in a segment, `a**b` is an ordinary glob.
  CHECK(filtered("{'xay':1,'ab':2,'acb':3}", "a**b") == q("{'ab':2,'acb':3}"));
  CHECK(filtered("{'xay':1,'ab':2,'acb':3}", "*a*") == q("{'xay':1,'ab':2,'acb':3}"));
  CHECK(filtered("{'a*':1,'ab':2}", "a*") == q("{'a*':1,'ab':2}"));
}

TEST_CASE("filter_path on bulk responses as Beats and Logstash ask for them") {
  const std::string bulk =
      "{'errors':true,'took':3,'items':["
      "{'index':{'_index':'logs','_id':'1','status':201,'result':'created'}},"
      "{'index':{'_index':'secret','_id':'2','status':403,'error':{'type':'security_exception',"
      "'reason':'denied'}}},"
      "{'create':{'_index':'logs','_id':'3','status':201,'result':'created'}}]}";
  CHECK(filtered(bulk, "errors,items.*.error,items.*.status") ==
        q("{'errors':true,'items':[{'index':{'status':201}},{'index':{'status':403,"
          "'error':{'type':'security_exception','reason':'denied'}}},"
          "{'create':{'status':201}}]}"));
  // Without `status` the items that succeeded vanish from the array altogether.
  CHECK(filtered(bulk, "items.*.error") ==
        q("{'items':[{'index':{'error':{'type':'security_exception','reason':'denied'}}}]}"));
  CHECK(filtered(bulk, "took") == q("{'took':3}"));
  CHECK(filtered(bulk, "-items") == q("{'errors':true,'took':3}"));
}

TEST_CASE("filter_path on non-object roots") {
  CHECK(filtered("[{'a':1,'b':2},{'b':3}]", "a") == q("[{'a':1}]"));
  CHECK(filtered("[{'b':3}]", "a") == "{}");
  CHECK(filtered("[1,2]", "a") == "{}");
  CHECK(filtered("[1,2]", "-a") == "[1,2]");
  CHECK(filtered("7", "a") == "{}");
}

TEST_CASE("filter_path keeps deep documents and pathological patterns cheap") {
  std::string deep;
  for (int i = 0; i < 500; ++i) deep += "{'a':";
  deep += "1";
  for (int i = 0; i < 500; ++i) deep += "}";
  CHECK(filtered(deep, "**.**.**.**.**.**.**.**.**.**.a") == q(deep));
  CHECK(filtered(deep, "-**.**.**.**.**.**.**.**.**.**.b") == q(deep));
  std::string long_name(5000, 'a');
  std::string doc = "{'" + long_name + "':1}";
  CHECK(filtered(doc, "*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b") == "{}");
  CHECK(filtered(doc, "*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a") == q(doc));
}
