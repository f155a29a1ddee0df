// The CLI's synchronous HTTP client (see http_client.hpp). The only CLI file that sees Beast.
#include "http_client.hpp"

#include <openssl/ssl.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/url/parse.hpp>

namespace esgate::cli {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

namespace {

struct parsed_url {
  bool tls = false;
  std::string host, port, base;
};

boost::system::result<parsed_url, std::string> parse_url(const std::string& url) {
  auto u = boost::urls::parse_uri(url);
  if (!u) return "invalid gateway URL [" + url + "]: " + u.error().message();
  parsed_url p;
  const std::string scheme(u->scheme());
  if (scheme == "https")
    p.tls = true;
  else if (scheme != "http")
    return "invalid gateway URL [" + url + "]: the scheme must be http or https";
  p.host = std::string(u->host_address());
  if (p.host.empty()) return "invalid gateway URL [" + url + "]: no host";
  p.port = u->has_port() ? std::string(u->port()) : (p.tls ? "443" : "80");
  p.base = std::string(u->encoded_path());
  while (!p.base.empty() && p.base.back() == '/') p.base.pop_back();
  return p;
}

std::string where(const parsed_url& p) { return p.host + ":" + p.port; }

template <class Stream>
boost::system::result<http_reply, std::string> exchange(Stream& stream, beast::tcp_stream& lowest,
                                                        const http_endpoint& to,
                                                        bhttp::request<bhttp::string_body>& req,
                                                        const parsed_url& p) {
  beast::error_code ec;
  lowest.expires_after(to.timeout);
  bhttp::write(stream, req, ec);
  if (ec) return "cannot send the request to " + where(p) + ": " + ec.message();
  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(64ull * 1024 * 1024);
  lowest.expires_after(to.timeout);
  bhttp::read(stream, buffer, parser, ec);
  if (ec == beast::error::timeout) return "no answer from " + where(p) + " within the timeout";
  if (ec) return "cannot read the answer of " + where(p) + ": " + ec.message();
  auto& res = parser.get();
  http_reply r;
  r.status = static_cast<int>(res.result_int());
  r.content_type = std::string(res[bhttp::field::content_type]);
  r.body = std::move(res.body());
  return r;
}

}  // namespace

std::string url_encode(std::string_view s) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

boost::system::result<http_reply, std::string> http_send(
    const http_endpoint& to, std::string_view method, std::string_view target,
    const std::vector<std::pair<std::string, std::string>>& headers, std::string_view body) {
  auto p = parse_url(to.url);
  if (!p) return p.error();
  asio::io_context ioc;
  tcp::resolver resolver(ioc);
  beast::error_code ec;
  const auto endpoints = resolver.resolve(p->host, p->port, ec);
  if (ec) return "cannot resolve " + p->host + ": " + ec.message();

  bhttp::request<bhttp::string_body> req;
  req.method_string(method);
  req.target(p->base + std::string(target));
  req.version(11);
  req.set(bhttp::field::host, p->host + ":" + p->port);
  req.set(bhttp::field::user_agent, "esgate-cli");
  req.set(bhttp::field::connection, "close");
  for (const auto& [name, value] : headers) req.set(name, value);
  if (!body.empty()) {
    req.set(bhttp::field::content_type, "application/json");
    req.body() = std::string(body);
  }
  req.prepare_payload();

  if (!p->tls) {
    beast::tcp_stream stream(ioc);
    stream.expires_after(to.timeout);
    stream.connect(endpoints, ec);
    if (ec) return "cannot connect to " + where(*p) + ": " + ec.message();
    return exchange(stream, stream, to, req, *p);
  }

  ssl::context ctx(ssl::context::tls_client);
  ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                  ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  if (to.insecure) {
    ctx.set_verify_mode(ssl::verify_none);
  } else {
    if (!to.cacert.empty())
      ctx.load_verify_file(to.cacert, ec);
    else
      ctx.set_default_verify_paths(ec);
    if (ec)
      return "cannot load the CA certificates" +
             (to.cacert.empty() ? std::string() : " from " + to.cacert) + ": " + ec.message();
    ctx.set_verify_mode(ssl::verify_peer);
  }
  beast::ssl_stream<beast::tcp_stream> stream(ioc, ctx);
  if (!to.insecure) stream.set_verify_callback(ssl::host_name_verification(p->host));
  // SNI only for names: RFC 6066 §3 forbids IP literals in server_name.
  boost::system::error_code addr_ec;
  asio::ip::make_address(p->host, addr_ec);
  if (addr_ec) SSL_set_tlsext_host_name(stream.native_handle(), p->host.c_str());
  auto& lowest = beast::get_lowest_layer(stream);
  lowest.expires_after(to.timeout);
  lowest.connect(endpoints, ec);
  if (ec) return "cannot connect to " + where(*p) + ": " + ec.message();
  lowest.expires_after(to.timeout);
  stream.handshake(ssl::stream_base::client, ec);
  if (ec) return "TLS handshake with " + where(*p) + " failed: " + ec.message();
  auto r = exchange(stream, lowest, to, req, *p);
  stream.shutdown(ec);  // the answer is complete; a truncated close_notify changes nothing
  return r;
}

}  // namespace esgate::cli
