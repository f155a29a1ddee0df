// Multi-target body plans (_msearch, _mget/_mtermvectors, _reindex, query bodies) against a fake
// authorizer: exact forwarded bodies, spliced errors and Elasticsearch's errors.
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "esgate/multi/multi.hpp"

// Catch prints results through Boost's operator<<, which needs these.
namespace esgate::body {
std::ostream& operator<<(std::ostream& os, const body_error& e) {
  return os << e.status << " " << e.type << ": " << e.reason;
}
}  // namespace esgate::body
namespace esgate::multi {
std::ostream& operator<<(std::ostream& os, const multi_plan& p) {
  return os << p.forwarded << "/" << p.total << " " << p.forward_body;
}
}  // namespace esgate::multi

namespace multi = esgate::multi;
namespace json = boost::json;
using esgate::body::target_verdict;

namespace {

// Single quotes read as double quotes, so JSON in tables stays legible.
std::string q(std::string s) {
  for (char& c : s)
    if (c == '\'') c = '"';
  return s;
}

std::string deny_reason(std::string_view action, std::string_view expr) {
  return "action [" + std::string(action) + "] is unauthorized for API key id [k1] of user " +
         "[alice] on indices [" + std::string(expr) + "], this action is granted by the index " +
         "privileges [read,all]";
}

struct call {
  std::string action;
  std::string expression;
  bool single = false;
  bool operator==(const call&) const = default;
};

// Reads `books`, `dest`, `logs-a`, `logs-b`; `logs-*` narrows to {logs-a, logs-b}, `none-*` to
// nothing, all ("") to every readable name; `Bad` is a bad name; anything else is denied.
// Writes on `*` are allowed only with `write_everywhere` (narrowed to `dest` otherwise).
struct fake_authorizer {
  std::vector<call> calls;
  bool write_everywhere = false;

  target_verdict one(std::string_view action, std::string_view name) const {
    target_verdict v;
    v.k = target_verdict::kind::allow;
    if (name == "books" || name == "dest" || name == "logs-a" || name == "logs-b") {
      v.names = {std::string(name)};
    } else if (name == "logs-*") {
      v.names = {"logs-a", "logs-b"};
      v.rewritten = true;
    } else if (name == "none-*") {
      v.rewritten = true;
    } else if (name == "*" && action.starts_with("indices:data/write") && write_everywhere) {
      v.names = {"*"};
    } else if (name == "*" && action.starts_with("indices:data/write")) {
      v.names = {"dest"};
      v.rewritten = true;
    } else if (name == "Bad") {
      v.k = target_verdict::kind::bad_request;
      v.type = "invalid_index_name_exception";
      v.reason = "Invalid index name [Bad], must be lowercase";
    } else {
      v.k = target_verdict::kind::deny;
    }
    return v;
  }

  target_verdict decide(std::string_view action, std::string_view expr) const {
    if (expr.empty()) {
      target_verdict all;
      all.k = target_verdict::kind::allow;
      all.names = {"books", "logs-a", "logs-b"};
      all.rewritten = true;
      return all;
    }
    target_verdict out;
    out.k = target_verdict::kind::allow;
    std::size_t from = 0;
    while (from <= expr.size()) {
      const auto comma = std::min(expr.find(',', from), expr.size());
      const auto v = one(action, expr.substr(from, comma - from));
      if (v.k == target_verdict::kind::bad_request) return v;
      if (v.k == target_verdict::kind::deny) {
        out.k = target_verdict::kind::deny;
        out.reason = deny_reason(action, expr);
        return out;
      }
      out.names.insert(out.names.end(), v.names.begin(), v.names.end());
      out.rewritten = out.rewritten || v.rewritten;
      from = comma + 1;
    }
    return out;
  }

  multi::target_authorizer fn() {
    return [this](std::string_view action, std::string_view expr, bool single) {
      calls.push_back({std::string(action), std::string(expr), single});
      return decide(action, expr);
    };
  }
};

constexpr std::string_view k_search = "indices:data/read/search";
constexpr std::string_view k_get = "indices:data/read/get";
constexpr std::string_view k_mget = "indices:data/read/mget[shard]";

std::string security_item(std::string_view action, std::string_view expr) {
  const auto r = deny_reason(action, expr);
  return "{'error':{'root_cause':[{'type':'security_exception','reason':'" + r +
         "'}],'type':'security_exception','reason':'" + r + "'},'status':403}";
}

std::string denied_json(const std::vector<multi::spliced_item>& items) {
  std::string s;
  for (const auto& i : items) s += std::to_string(i.position) + ":" + json::serialize(i.item) + ";";
  return s;
}

struct plan_case {
  const char* name;
  std::string body;
  std::string path_index;
  std::string forward;
  std::size_t forwarded;
  std::size_t total;
  std::string denied;  // "pos:json;..." with single quotes
};

struct error_case {
  const char* name;
  std::string body;
  std::string path_index;
  int status;
  std::string type;
  std::string reason;
};

}  // namespace

TEST_CASE("msearch plans forward allowed pairs and splice the others") {
  const std::string secret_body =
      "{'query':{'bool':{'filter':[{'terms':{'user':{'index':"
      "'secret','id':'1','path':'followers'}}}]}}}";
  const std::vector<plan_case> cases = {
      {"allowed pair forwarded byte for byte",
       "{ 'index' : 'books' }\n{'query':{'match_all':{}}}\n", "",
       "{ 'index' : 'books' }\n{'query':{'match_all':{}}}\n", 1, 1, ""},
      {"CRLF and comments are JSON whitespace", "{'index':'books' /* c */}\r\n{}\r\n", "",
       "{'index':'books' /* c */}\r\n{}\r\n", 1, 1, ""},
      {"denied pair dropped", "{'index':'secret'}\n{}\n{'index':'books'}\n{'size':1}\n", "",
       "{'index':'books'}\n{'size':1}\n", 1, 2, "0:" + security_item(k_search, "secret") + ";"},
      {"wildcard narrowed, other keys kept", "{'index':'logs-*','ignore_unavailable':true}\n{}\n",
       "", "{'index':'logs-a,logs-b','ignore_unavailable':true}\n{}\n", 1, 1, ""},
      {"indices array narrowed into index, in place",
       "{'indices':['logs-*'],'routing':'r'}\n{'size':0}\n", "",
       "{'index':'logs-a,logs-b','routing':'r'}\n{'size':0}\n", 1, 1, ""},
      {"index and indices: the last one is read", "{'index':'secret','indices':'logs-*'}\n{}\n", "",
       "{'index':'logs-a,logs-b'}\n{}\n", 1, 1, ""},
      {"narrowed to nothing: the empty expression", "{'index':'none-*'}\n{}\n", "",
       "{'index':'*,-*'}\n{}\n", 1, 1, ""},
      {"array of allowed names unchanged", "{'index':['books','logs-a']}\n{}\n", "",
       "{'index':['books','logs-a']}\n{}\n", 1, 1, ""},
      {"array naming a denied index", "{'index':['books','secret']}\n{}\n", "", "", 0, 1,
       "0:" + security_item(k_search, "books,secret") + ";"},
      {"array with a wildcard", "{'index':['books','logs-*']}\n{}\n", "",
       "{'index':'books,logs-a,logs-b'}\n{}\n", 1, 1, ""},
      {"empty header uses the path index", "{}\n{}\n", "books", "{}\n{}\n", 1, 1, ""},
      {"empty header narrowed from the path index", "{}\n{}\n", "logs-*",
       "{'index':'logs-a,logs-b'}\n{}\n", 1, 1, ""},
      {"header index wins over the path", "{'index':'secret'}\n{}\n{}\n{}\n", "books", "{}\n{}\n",
       1, 2, "0:" + security_item(k_search, "secret") + ";"},
      {"empty index array means all indices, not the path", "{'index':[]}\n{}\n", "secret",
       "{'index':'books,logs-a,logs-b'}\n{}\n", 1, 1, ""},
      {"no index anywhere: all indices", "{'preference':'_local'}\n{}\n", "",
       "{'preference':'_local','index':'books,logs-a,logs-b'}\n{}\n", 1, 1, ""},
      {"an empty line is an empty header (ES 8)", "{}\n{}\n\n{}\n", "logs-*",
       "{'index':'logs-a,logs-b'}\n{}\n{'index':'logs-a,logs-b'}\n{}\n", 2, 2, ""},
      {"blank line shifts the pairing as in ES", "{}\n{}\n\n{'index':'secret'}\n", "books",
       "{}\n{}\n\n{'index':'secret'}\n", 2, 2, ""},
      {"a dropped pair never leaves an empty first line", "{'index':'secret'}\n{}\n\n{}\n", "books",
       "{}\n{}\n", 1, 2, "0:" + security_item(k_search, "secret") + ";"},
      {"whitespace-only and scalar headers read as {}", " \n{}\n'x'\n{}\n", "books",
       " \n{}\n'x'\n{}\n", 2, 2, ""},
      {"a last header without a body is ignored", "{'index':'books'}\n{}\n{'index':'secret'}\n", "",
       "{'index':'books'}\n{}\n", 1, 1, ""},
      {"bad index name: a 400 item", "{'index':'Bad'}\n{}\n{'index':'books'}\n{}\n", "",
       "{'index':'books'}\n{}\n", 1, 2,
       "0:{'error':{'root_cause':[{'type':'invalid_index_name_exception','reason':'Invalid index "
       "name [Bad], must be lowercase'}],'type':'invalid_index_name_exception','reason':'Invalid "
       "index name [Bad], must be lowercase'},'status':400};"},
      {"terms lookup on a denied index inside the body", "{'index':'books'}\n" + secret_body + "\n",
       "", "", 0, 1, "0:" + security_item(k_get, "secret") + ";"},
      {"duplicate keys: the last one is authorized", "{'index':'books','index':'secret'}\n{}\n", "",
       "", 0, 1, "0:" + security_item(k_search, "secret") + ";"},
      {"numbers are names, as nodeStringArrayValue reads them", "{'index':2024}\n{}\n", "", "", 0,
       1, "0:" + security_item(k_search, "2024") + ";"},
      {"empty body: nothing to plan, ES answers", "", "", "", 0, 0, ""},
      {"only a header: ES answers no requests added", "{}\n", "", "{}\n", 0, 0, ""},
  };
  for (const auto& c : cases) {
    SECTION(c.name) {
      fake_authorizer fake;
      const auto plan = multi::plan_msearch(q(c.body), c.path_index, k_search, fake.fn());
      REQUIRE(plan.has_value());
      CHECK(plan->forward_body == q(c.forward));
      CHECK(plan->forwarded == c.forwarded);
      CHECK(plan->total == c.total);
      CHECK(denied_json(plan->denied) == q(c.denied));
      CHECK(plan->all_denied() == (c.forwarded == 0 && c.total != 0));
    }
  }
}

TEST_CASE("msearch plans ask each header's expression once, not single") {
  fake_authorizer fake;
  const auto plan = multi::plan_msearch(q("{'index':'logs-*'}\n{}\n{}\n{}\n"), "books",
                                        "indices:data/read/search", fake.fn());
  REQUIRE(plan.has_value());
  CHECK(fake.calls == std::vector<call>{{std::string(k_search), "logs-*", false},
                                        {std::string(k_search), "books", false}});
}

TEST_CASE("msearch structural errors are Elasticsearch's 400s") {
  const std::string nl = "The msearch request must be terminated by a newline [\n]";
  const std::vector<error_case> cases = {
      {"last body line without a newline", "{}\n{}", "", 400, "illegal_argument_exception", nl},
      {"header without a newline", "{}", "", 400, "illegal_argument_exception", nl},
      {"unknown header key", "{'index':'books','size':10}\n{}\n", "", 400,
       "illegal_argument_exception", "key [size] is not supported in the metadata section"},
      {"unknown key even in a trailing header", "{'foo':1}\n", "", 400,
       "illegal_argument_exception", "key [foo] is not supported in the metadata section"},
      {"types are gone in 8", "{'type':'_doc'}\n{}\n", "", 400, "illegal_argument_exception",
       "key [type] is not supported in the metadata section"},
      {"array header", "[]\n{}\n", "", 400, "x_content_parse_exception",
       "Unexpected token after end of object"},
      {"invalid header", "{'index':\n{}\n", "", 400, "x_content_parse_exception",
       "Failed to parse an msearch header line as a JSON object"},
      {"two objects on a header line", "{}{}\n{}\n", "", 400, "x_content_parse_exception",
       "Failed to parse an msearch header line as a JSON object"},
      {"null index", "{'index':null}\n{}\n", "", 400, "illegal_argument_exception",
       "The msearch header [index] must be a string or an array of strings"},
      {"object index", "{'index':{'a':1}}\n{}\n", "", 400, "illegal_argument_exception",
       "The msearch header [index] must be a string or an array of strings"},
      {"empty first line (REST compatibility 7 would skip it)", "\n{'index':'secret'}\n{}\n", "",
       400, "illegal_argument_exception",
       "support for empty first line before any action metadata in msearch API is deprecated "
       "and will be removed in the next major version"},
  };
  for (const auto& c : cases) {
    SECTION(c.name) {
      fake_authorizer fake;
      const auto plan = multi::plan_msearch(q(c.body), c.path_index, k_search, fake.fn());
      REQUIRE_FALSE(plan.has_value());
      CHECK(plan.error().status == c.status);
      CHECK(plan.error().type == c.type);
      CHECK(plan.error().reason == c.reason);
    }
  }
}

TEST_CASE("mget plans remove denied docs and splice their failures") {
  const auto r = deny_reason(k_mget, "secret");
  const auto failure = "{'root_cause':[{'type':'security_exception','reason':'" + r +
                       "'}],'type':'security_exception','reason':'" + r + "'}";
  const std::vector<plan_case> cases = {
      {"all allowed: byte for byte", "{ 'docs' : [ {'_index':'books','_id':'1'}, {'_id':2} ] }",
       "books", "{ 'docs' : [ {'_index':'books','_id':'1'}, {'_id':2} ] }", 2, 2, ""},
      {"one denied, other fields kept",
       "{'docs':[{'_index':'books','_id':'1','_source':['a']},{'_index':'secret','_id':'2',"
       "'routing':'r'},{'_id':3,'stored_fields':'f'}]}",
       "books",
       "{'docs':[{'_index':'books','_id':'1','_source':['a']},{'_id':3,'stored_fields':'f'}]}", 2,
       3, "1:{'_index':'secret','_id':'2','error':" + failure + "};"},
      {"numeric id printed as text", "{'docs':[{'_index':'secret','_id':7}]}", "", "{'docs':[]}", 0,
       1, "0:{'_index':'secret','_id':'7','error':" + failure + "};"},
      {"ids on a denied path index: all denied", "{'ids':['1','2']}", "secret", "{'ids':[]}", 0, 2,
       "0:{'_index':'secret','_id':'1','error':" + failure +
           "};1:{'_index':'secret','_id':'2',"
           "'error':" +
           failure + "};"},
      {"ids on an allowed path index", "{'ids':['1',2,true]}", "books", "{'ids':['1',2,true]}", 3,
       3, ""},
      {"ids and docs in body order", "{'ids':['1'],'docs':[{'_index':'secret','_id':'2'}]}",
       "books", "{'ids':['1'],'docs':[]}", 1, 2,
       "1:{'_index':'secret','_id':'2','error':" + failure + "};"},
      {"null _index keeps the path index", "{'docs':[{'_index':null,'_id':'1'}]}", "books",
       "{'docs':[{'_index':null,'_id':'1'}]}", 1, 1, ""},
      {"artificial mtermvectors doc needs no id", "{'docs':[{'_index':'books','doc':{'f':'x'}}]}",
       "", "{'docs':[{'_index':'books','doc':{'f':'x'}}]}", 1, 1, ""},
      {"bad index name: item failure of that type",
       "{'docs':[{'_index':'Bad','_id':'1'},{'_index':'books','_id':'2'}]}", "",
       "{'docs':[{'_index':'books','_id':'2'}]}", 1, 2,
       "0:{'_index':'Bad','_id':'1','error':{'root_cause':[{'type':'invalid_index_name_exception',"
       "'reason':'Invalid index name [Bad], must be lowercase'}],'type':"
       "'invalid_index_name_exception','reason':'Invalid index name [Bad], must be lowercase'}};"},
  };
  for (const auto& c : cases) {
    SECTION(c.name) {
      fake_authorizer fake;
      const auto plan = multi::plan_docs(q(c.body), c.path_index, k_mget, fake.fn());
      REQUIRE(plan.has_value());
      CHECK(plan->forward_body == q(c.forward));
      CHECK(plan->forwarded == c.forwarded);
      CHECK(plan->total == c.total);
      CHECK(denied_json(plan->denied) == q(c.denied));
      for (const auto& call : fake.calls) CHECK(call.single);
    }
  }
}

TEST_CASE("mget structural errors are Elasticsearch's 400s") {
  const std::vector<error_case> cases = {
      {"no documents", "{}", "books", 400, "action_request_validation_exception",
       "Validation Failed: 1: no documents to get;"},
      {"ids without an index", "{'ids':['1','2']}", "", 400, "action_request_validation_exception",
       "Validation Failed: 1: index is missing for doc 0;2: index is missing for doc 1;"},
      {"doc without id nor index", "{'docs':[{'_source':false}]}", "", 400,
       "action_request_validation_exception",
       "Validation Failed: 1: index is missing for doc 0;2: id is missing for doc 0;"},
      {"null id is missing", "{'docs':[{'_id':null}]}", "books", 400,
       "action_request_validation_exception", "Validation Failed: 1: id is missing for doc 0;"},
      {"docs element not an object", "{'docs':['1']}", "books", 400, "illegal_argument_exception",
       "docs array element should include an object"},
      {"ids element not a value", "{'ids':[null]}", "books", 400, "illegal_argument_exception",
       "ids array element should only contain ids"},
      {"unknown array key", "{'foo':[]}", "books", 400, "parsing_exception",
       "unknown key [foo] for a START_ARRAY, expected [docs] or [ids]"},
      {"scalar top-level value", "{'docs':'x'}", "books", 400, "parsing_exception",
       "unexpected token [VALUE_STRING], expected [FIELD_NAME] or [START_ARRAY]"},
      {"array body", "[]", "books", 400, "parsing_exception",
       "unexpected token [START_ARRAY], expected [START_OBJECT]"},
      {"nested _index ES would read as the doc's",
       "{'docs':[{'_id':'1','foo':[{'_index':'secret'}]}]}", "books", 400, "parse_exception",
       "failed to parse multi get request. [_index] is only accepted at the top level of a docs "
       "array element"},
      {"_index array", "{'docs':[{'_index':['books','secret'],'_id':'1'}]}", "", 400,
       "illegal_argument_exception", "[_index] must be a string in a docs array element"},
      {"invalid JSON", "{'docs':[", "books", 400, "x_content_parse_exception",
       "Failed to parse the request body"},
  };
  for (const auto& c : cases) {
    SECTION(c.name) {
      fake_authorizer fake;
      const auto plan = multi::plan_docs(q(c.body), c.path_index, k_mget, fake.fn());
      REQUIRE_FALSE(plan.has_value());
      CHECK(plan.error().status == c.status);
      CHECK(plan.error().type == c.type);
      CHECK(plan.error().reason == c.reason);
      CHECK(fake.calls.empty());
    }
  }
}

namespace {

struct reindex_case {
  const char* name;
  std::string body;
  bool may_use_remote;
  bool write_everywhere;
  std::string forward;  // empty: an error is expected
  int status;
  std::string type;
  std::string reason;
};

constexpr std::string_view k_write_index = "indices:data/write/index:op_type/index";
constexpr std::string_view k_write_create = "indices:data/write/index:op_type/create";

}  // namespace

TEST_CASE("reindex plans authorize source, dest, remote and scripts") {
  const std::string remote_refused =
      "reindex from a remote cluster ([source.remote]) is only allowed through esgate for "
      "identities holding the cluster privilege [all]";
  const std::string script_refused =
      "action [indices:data/write/index:op_type/index] with a [script] may write to any index: "
      "esgate allows it only for identities granted it on every index";
  const std::vector<reindex_case> cases = {
      {"allowed: byte for byte", "{ 'source':{'index':'books'}, 'dest':{'index':'dest'} }", false,
       false, "{ 'source':{'index':'books'}, 'dest':{'index':'dest'} }", 0, "", ""},
      {"source narrowed in place",
       "{'source':{'index':'logs-*','query':{'match_all':{}}},'dest':{'index':'dest'}}", false,
       false,
       "{'source':{'index':'logs-a,logs-b','query':{'match_all':{}}},'dest':{'index':'dest'}}", 0,
       "", ""},
      {"source narrowed to nothing", "{'source':{'index':['none-*']},'dest':{'index':'dest'}}",
       false, false, "{'source':{'index':'*,-*'},'dest':{'index':'dest'}}", 0, "", ""},
      {"source denied", "{'source':{'index':'secret'},'dest':{'index':'dest'}}", false, false, "",
       403, "security_exception", deny_reason(k_search, "secret")},
      {"dest denied", "{'source':{'index':'books'},'dest':{'index':'secret'}}", false, false, "",
       403, "security_exception", deny_reason(k_write_index, "secret")},
      {"op_type create checks the create action",
       "{'source':{'index':'books'},'dest':{'index':'secret','op_type':'create'}}", false, false,
       "", 403, "security_exception", deny_reason(k_write_create, "secret")},
      {"op_type is case-insensitive",
       "{'source':{'index':'books'},'dest':{'index':'secret','op_type':'CREATE'}}", false, false,
       "", 403, "security_exception", deny_reason(k_write_create, "secret")},
      {"unknown op_type", "{'source':{'index':'books'},'dest':{'index':'dest','op_type':'up'}}",
       false, false, "", 400, "illegal_argument_exception",
       "opType must be 'create' or 'index', found: [up]"},
      {"remote refused without cluster all",
       "{'source':{'index':'x','remote':{'host':'http://10.0.0.1:9200'}},'dest':{'index':'dest'}}",
       false, false, "", 403, "security_exception", remote_refused},
      {"remote allowed with cluster all: remote indices are not local reads",
       "{'source':{'index':'secret','remote':{'host':'http://h:9200'}},'dest':{'index':'dest'}}",
       true, false,
       "{'source':{'index':'secret','remote':{'host':'http://h:9200'}},'dest':{'index':'dest'}}", 0,
       "", ""},
      {"script needs writes everywhere",
       "{'source':{'index':'books'},'dest':{'index':'dest'},'script':{'source':'ctx._index=1'}}",
       false, false, "", 403, "security_exception", script_refused},
      {"script allowed when writes everywhere are",
       "{'source':{'index':'books'},'dest':{'index':'dest'},'script':{'source':'x'}}", false, true,
       "{'source':{'index':'books'},'dest':{'index':'dest'},'script':{'source':'x'}}", 0, "", ""},
      {"terms lookup in the source query",
       "{'source':{'index':'books','query':{'terms':{'u':{'index':'secret','id':'1','path':'p'}}}},"
       "'dest':{'index':'dest'}}",
       false, false, "", 403, "security_exception", deny_reason(k_get, "secret")},
      {"no source index", "{'source':{},'dest':{'index':'dest'}}", false, false, "", 400,
       "action_request_validation_exception",
       "Validation Failed: 1: use _all if you really want to copy from all existing indexes;"},
      {"empty source index", "{'source':{'index':''},'dest':{'index':'dest'}}", false, false, "",
       400, "action_request_validation_exception",
       "Validation Failed: 1: use _all if you really want to copy from all existing indexes;"},
      {"no dest index", "{'source':{'index':'books'},'dest':{}}", false, false, "", 400,
       "action_request_validation_exception", "Validation Failed: 1: index must be specified;"},
      {"neither", "{}", false, false, "", 400, "action_request_validation_exception",
       "Validation Failed: 1: use _all if you really want to copy from all existing indexes;2: "
       "index must be specified;"},
      {"dest index not a string", "{'source':{'index':'books'},'dest':{'index':['a']}}", false,
       false, "", 400, "x_content_parse_exception",
       "[dest] index doesn't support values of type: START_ARRAY"},
      {"source not an object", "{'source':'books','dest':{'index':'dest'}}", false, false, "", 400,
       "x_content_parse_exception",
       "[reindex] source doesn't support values of type: VALUE_STRING"},
      {"source index a number", "{'source':{'index':5},'dest':{'index':'dest'}}", false, false, "",
       400, "illegal_argument_exception", "Expected [index] to be a list of a string but was [5]"},
      {"invalid JSON", "{'source':", false, false, "", 400, "x_content_parse_exception",
       "Failed to parse the reindex request body"},
  };
  for (const auto& c : cases) {
    SECTION(c.name) {
      fake_authorizer fake;
      fake.write_everywhere = c.write_everywhere;
      const auto out = multi::plan_reindex(q(c.body), c.may_use_remote, fake.fn());
      if (c.forward.empty()) {
        REQUIRE_FALSE(out);
        CHECK(out.error().status == c.status);
        CHECK(out.error().type == c.type);
        CHECK(out.error().reason == c.reason);
      } else {
        REQUIRE(out);
        CHECK(*out == q(c.forward));
      }
    }
  }
}

TEST_CASE("reindex asks read on the source, single write on dest, writes and deletes on *") {
  fake_authorizer fake;
  fake.write_everywhere = true;
  const auto out = multi::plan_reindex(
      q("{'source':{'index':['books','logs-a']},'dest':{'index':'dest','op_type':'create'},"
        "'script':{'source':'x'}}"),
      false, fake.fn());
  REQUIRE(out);
  CHECK(fake.calls == std::vector<call>{{std::string(k_search), "books,logs-a", false},
                                        {std::string(k_write_create), "dest", true},
                                        {std::string(k_write_create), "*", false},
                                        {"indices:data/write/delete", "*", false}});
}

TEST_CASE("query bodies: indices read by the query must be readable") {
  struct query_case {
    const char* name;
    std::string body;
    std::string denied_index;  // empty: allowed
  };
  const std::vector<query_case> cases = {
      {"terms lookup nested in bool.filter",
       "{'query':{'bool':{'filter':[{'term':{'a':1}},{'terms':{'user':{'index':'secret','id':'2',"
       "'path':'followers'}}}]}}}",
       "secret"},
      {"terms lookup on an allowed index",
       "{'query':{'terms':{'user':{'index':'books','id':'2','path':'f'}}}}", ""},
      {"plain terms", "{'query':{'terms':{'user':['index','_index']}}}", ""},
      {"terms lookup deep inside function_score and nested",
       "{'query':{'function_score':{'query':{'nested':{'path':'p','query':{'dis_max':{'queries':"
       "[{'has_child':{'type':'c','query':{'terms':{'f':{'index':'secret','id':'1','path':'x'}}}}}"
       "]}}}}}}}",
       "secret"},
      {"more_like_this like item",
       "{'query':{'more_like_this':{'fields':['t'],'like':[{'_index':"
       "'books','_id':'1'},'text',{'_index':'secret','_id':'2'}]}}}",
       "secret"},
      {"more_like_this unlike single object",
       "{'query':{'more_like_this':{'like':'x','unlike':{'_index':'secret','_id':'2'}}}}",
       "secret"},
      {"more_like_this allowed",
       "{'query':{'more_like_this':{'like':[{'_index':'books','_id':'1'}"
       "]}}}",
       ""},
      {"percolate", "{'query':{'percolate':{'field':'q','index':'secret','id':'1'}}}", "secret"},
      {"geo_shape indexed_shape",
       "{'query':{'bool':{'filter':{'geo_shape':{'loc':{'indexed_shape':{'index':'secret','id':"
       "'d','path':'p'}}}}}}}",
       "secret"},
      {"indexed_shape defaults to the shapes index",
       "{'query':{'shape':{'g':{'indexed_shape':{'id':'d'}}}}}", "shapes"},
      {"lookup in an aggregation filter",
       "{'aggs':{'a':{'filter':{'terms':{'f':{'index':'secret','id':'1','path':'p'}}}}}}",
       "secret"},
      {"escaped key is still read by ES",
       "{'query':{'terms':{'f':{'ind\\u0065x':'secret','id':'1','path':'p'}}}}", "secret"},
      {"only the first value is read by ES",
       "{'query':{'terms':{'f':{'index':'secret','id':'1','path':'p'}}}} trailing", "secret"},
      {"invalid JSON: ES reports it", "{'query':{'terms':{'f':{'index':'secret'", ""},
  };
  for (const auto& c : cases) {
    SECTION(c.name) {
      fake_authorizer fake;
      const auto e = multi::check_query_body(q(c.body), fake.fn());
      if (c.denied_index.empty()) {
        CHECK_FALSE(e);
      } else {
        REQUIRE(e);
        CHECK(e->status == 403);
        CHECK(e->type == "security_exception");
        CHECK(e->reason == deny_reason(k_get, c.denied_index));
        CHECK(fake.calls.back() == call{std::string(k_get), c.denied_index, true});
      }
    }
  }
}

TEST_CASE("query bodies: the fast path parses nothing and asks nothing") {
  for (const std::string body :
       {"{'query':{'match_all':{}}}", "{'query':{'terms':{'f':[1]}}", "not json at all", ""}) {
    fake_authorizer fake;
    CHECK_FALSE(multi::check_query_body(q(body), fake.fn()));
    CHECK(fake.calls.empty());
  }
}

TEST_CASE("query bodies: nesting is checked to Jackson's depth, and beyond it refused") {
  const auto nested = [](int depth) {
    std::string s;
    for (int i = 0; i < depth; ++i) s += "{\"bool\":{\"must\":";
    s += "{\"terms\":{\"f\":{\"index\":\"secret\",\"id\":\"1\",\"path\":\"p\"}}}";
    for (int i = 0; i < depth; ++i) s += "}}";
    return s;
  };
  fake_authorizer fake;
  const auto deep = multi::check_query_body(nested(400), fake.fn());
  REQUIRE(deep);
  CHECK(deep->status == 403);
  const auto too_deep = multi::check_query_body(nested(600), fake.fn());
  REQUIRE(too_deep);
  CHECK(too_deep->status == 400);
  CHECK(too_deep->type == "x_content_parse_exception");
}

TEST_CASE("pit_id_of reads the top-level pit id") {
  const std::vector<std::pair<std::string, std::optional<std::string>>> cases = {
      {"{'pit':{'id':'abc==','keep_alive':'1m'},'size':1}", "abc=="},
      {"{'query':{'match_all':{}}}", std::nullopt},
      {"{'pit':'abc'}", std::nullopt},
      {"{'pit':{'id':5}}", std::nullopt},
      {"{'aggs':{'pit':{'id':'x'}}}", std::nullopt},
      {"{'pit':{'id':'a'", std::nullopt},
      {"{'p\\u0069t':{'id':'esc'}}", "esc"},
  };
  for (const auto& [body, id] : cases) {
    INFO(body);
    CHECK(multi::pit_id_of(q(body)) == id);
  }
}
