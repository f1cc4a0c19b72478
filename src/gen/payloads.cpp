#include "gen/payloads.h"

#include <cstdio>
#include <cstring>

#include "core/byte_io.h"

namespace flowkit::gen {
namespace {

constexpr std::string_view kHostNames[] = {
    "www.google.com",
    "www.youtube.com",
    "i.ytimg.com",
    "fonts.gstatic.com",
    "fonts.googleapis.com",
    "www.gstatic.com",
    "accounts.google.com",
    "mail.google.com",
    "drive.google.com",
    "docs.google.com",
    "play.googleapis.com",
    "update.googleapis.com",
    "clients4.google.com",
    "ajax.googleapis.com",
    "www.facebook.com",
    "static.xx.fbcdn.net",
    "scontent.xx.fbcdn.net",
    "www.instagram.com",
    "web.whatsapp.com",
    "en.wikipedia.org",
    "upload.wikimedia.org",
    "www.wikipedia.org",
    "www.amazon.com",
    "m.media-amazon.com",
    "s3.amazonaws.com",
    "images-na.ssl-images-amazon.com",
    "www.netflix.com",
    "assets.nflxext.com",
    "www.microsoft.com",
    "login.microsoftonline.com",
    "outlook.office365.com",
    "teams.microsoft.com",
    "www.office.com",
    "ctldl.windowsupdate.com",
    "www.bing.com",
    "www.apple.com",
    "gateway.icloud.com",
    "swscan.apple.com",
    "github.com",
    "api.github.com",
    "raw.githubusercontent.com",
    "objects.githubusercontent.com",
    "www.reddit.com",
    "www.redditstatic.com",
    "www.linkedin.com",
    "twitter.com",
    "pbs.twimg.com",
    "abs.twimg.com",
    "duckduckgo.com",
    "www.cloudflare.com",
    "cdnjs.cloudflare.com",
    "cdn.jsdelivr.net",
    "deb.debian.org",
    "security.debian.org",
    "archive.ubuntu.com",
    "www.mozilla.org",
    "incoming.telemetry.mozilla.org",
    "addons.mozilla.org",
    "stackoverflow.com",
    "cdn.sstatic.net",
    "slack.com",
    "edgeapi.slack.com",
    "zoom.us",
    "www.dropbox.com",
    "open.spotify.com",
    "api.spotify.com",
    "www.twitch.tv",
    "discord.com",
    "www.paypal.com",
    "www.ebay.com",
    "www.bbc.co.uk",
    "www.nytimes.com",
    "www.theguardian.com",
    "news.ycombinator.com",
    "www.python.org",
    "pypi.org",
    "files.pythonhosted.org",
    "registry.npmjs.org",
    "hub.docker.com",
    "production.cloudflare.docker.com",
    "www.adobe.com",
    "www.salesforce.com",
    "ocsp.digicert.com",
    "ocsp.pki.goog",
    "www.yahoo.com",
    "www.baidu.com",
    "www.tiktok.com",
    "www.pinterest.com",
    "www.imdb.com",
    "www.booking.com",
    "www.airbnb.com",
    "connectivitycheck.gstatic.com",
    "detectportal.firefox.com",
    "www.msftconnecttest.com",
};

// Writes big-endian fields and fills in length prefixes once the content is known.
struct Out {
  uint8_t* p;
  size_t n = 0;
  void u8(uint8_t v) { p[n++] = v; }
  void u16(uint16_t v) {
    store_be16(p + n, v);
    n += 2;
  }
  void u32(uint32_t v) {
    store_be32(p + n, v);
    n += 4;
  }
  void bytes(const void* b, size_t len) {
    std::memcpy(p + n, b, len);
    n += len;
  }
  void random(uint64_t& state, size_t len);
  size_t hole(size_t width) {
    size_t at = n;
    n += width;
    return at;
  }
  // Stores the number of bytes written after the hole into the hole.
  void fill16(size_t at) { store_be16(p + at, uint16_t(n - at - 2)); }
  void fill24(size_t at) {
    uint32_t v = uint32_t(n - at - 3);
    p[at] = uint8_t(v >> 16);
    p[at + 1] = uint8_t(v >> 8);
    p[at + 2] = uint8_t(v);
  }
};

uint64_t splitmix(uint64_t& s) {
  uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

void Out::random(uint64_t& state, size_t len) {
  while (len >= 8) {
    uint64_t v = splitmix(state);
    std::memcpy(p + n, &v, 8);
    n += 8;
    len -= 8;
  }
  if (len) {
    uint64_t v = splitmix(state);
    std::memcpy(p + n, &v, len);
    n += len;
  }
}

void put_name(Out& o, std::string_view name) {
  while (!name.empty()) {
    size_t dot = name.find('.');
    std::string_view label = name.substr(0, dot);
    o.u8(uint8_t(label.size()));
    o.bytes(label.data(), label.size());
    if (dot == std::string_view::npos) break;
    name.remove_prefix(dot + 1);
  }
  o.u8(0);
}

void put_opt(Out& o, uint16_t edns_size) {
  o.u8(0);  // root
  o.u16(41);
  o.u16(edns_size);
  o.u32(0);  // extended rcode, version, flags
  o.u16(0);
}

size_t put_dns_head(Out& o, uint16_t id, uint16_t flags, uint16_t answers, std::string_view name,
                    uint16_t qtype) {
  o.u16(id);
  o.u16(flags);
  o.u16(1);
  o.u16(answers);
  o.u16(0);
  o.u16(1);  // the OPT record
  put_name(o, name);
  o.u16(qtype);
  o.u16(1);  // IN
  return o.n;
}

// GREASE (RFC 8701) values 0x0a0a, 0x1a1a, ... 0xfafa.
uint16_t grease(uint64_t v) {
  uint16_t g = uint16_t((v & 15) << 4 | 0x0a);
  return uint16_t(g << 8 | g);
}

}  // namespace

std::span<const std::string_view> host_names() {
  return kHostNames;
}

size_t build_dns_query(uint8_t* out, uint16_t id, std::string_view name, uint16_t qtype,
                       uint16_t edns_size) {
  Out o{out};
  put_dns_head(o, id, 0x0100, 0, name, qtype);
  put_opt(o, edns_size);
  return o.n;
}

size_t build_dns_response(uint8_t* out, uint16_t id, std::string_view name, uint16_t qtype,
                          uint8_t rcode, std::span<const uint8_t> addresses, uint32_t ttl,
                          uint16_t edns_size) {
  size_t width = qtype == kDnsTypeA ? 4 : qtype == kDnsTypeAaaa ? 16 : 0;
  uint16_t count = rcode == 0 && width ? uint16_t(addresses.size() / width) : 0;
  Out o{out};
  put_dns_head(o, id, uint16_t(0x8180 | (rcode & 15)), count, name, qtype);
  for (uint16_t i = 0; i < count; ++i) {
    o.u16(0xc00c);  // pointer to the question name
    o.u16(qtype);
    o.u16(1);
    o.u32(ttl);
    o.u16(uint16_t(width));
    o.bytes(addresses.data() + i * width, width);
  }
  put_opt(o, edns_size);
  return o.n;
}

size_t build_dns_txt_response(uint8_t* out, uint16_t id, std::string_view name, uint64_t seed,
                              size_t target_len) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  static constexpr std::string_view kPrefixes[] = {
      "v=spf1 include:_spf.google.com include:spf.protection.outlook.com ",
      "google-site-verification=",
      "MS=ms",
      "v=DKIM1; k=rsa; p=",
      "facebook-domain-verification=",
      "apple-domain-verification=",
      "docusign=",
      "atlassian-domain-verification="};
  uint64_t st = seed;
  // Count first: the answer count is in the header.
  size_t head_len = 12 + name.size() + 2 + 4;
  size_t room = target_len > head_len + 11 ? target_len - head_len - 11 : 0;
  uint16_t count = 0;
  size_t lens[64];
  while (room > 16 && count < 64) {
    size_t len = 40 + splitmix(st) % 216;  // 40..255 characters
    if (len + 13 > room) len = room - 13;
    lens[count++] = len;
    room -= len + 13;
  }
  Out o{out};
  put_dns_head(o, id, 0x8180, count, name, kDnsTypeTxt);
  for (uint16_t i = 0; i < count; ++i) {
    o.u16(0xc00c);
    o.u16(kDnsTypeTxt);
    o.u16(1);
    o.u32(300);
    o.u16(uint16_t(lens[i] + 1));
    o.u8(uint8_t(lens[i]));
    std::string_view prefix = kPrefixes[splitmix(st) % std::size(kPrefixes)];
    size_t k = prefix.size() < lens[i] ? prefix.size() : lens[i];
    o.bytes(prefix.data(), k);
    for (size_t j = k; j < lens[i]; j += 8) {
      uint64_t v = splitmix(st);
      for (size_t b = j; b < j + 8 && b < lens[i]; ++b, v >>= 8) o.u8(uint8_t(kAlphabet[v & 63]));
    }
  }
  put_opt(o, 4096);
  return o.n;
}

size_t build_client_hello(uint8_t* out, const ClientHelloParams& prm) {
  uint64_t st = prm.seed;
  uint64_t g = splitmix(st);
  const bool chrome = prm.profile == TlsProfile::kChrome;
  const bool firefox = prm.profile == TlsProfile::kFirefox;
  const bool curl = prm.profile == TlsProfile::kCurl;
  Out o{out};
  o.u8(22);  // handshake record
  o.u16(0x0301);
  size_t rec = o.hole(2);
  o.u8(1);  // ClientHello
  size_t hs = o.hole(3);
  o.u16(0x0303);
  o.random(st, 32);
  o.u8(32);
  uint64_t sid = prm.seed ^ 0x5e5510'0000'0000ULL;
  o.random(sid, 32);

  size_t suites = o.hole(2);
  if (chrome) o.u16(grease(g));
  static constexpr uint16_t kChromeSuites[] = {0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f,
                                               0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013,
                                               0xc014, 0x009c, 0x009d, 0x002f, 0x0035};
  static constexpr uint16_t kFirefoxSuites[] = {0x1301, 0x1303, 0x1302, 0xc02b, 0xc02f, 0xcca9,
                                                0xcca8, 0xc02c, 0xc030, 0xc00a, 0xc009, 0xc013,
                                                0xc014, 0x009c, 0x009d, 0x002f, 0x0035};
  static constexpr uint16_t kCurlSuites[] = {
      0x1302, 0x1303, 0x1301, 0xc02c, 0xc030, 0x009f, 0xcca9, 0xcca8, 0xccaa, 0xc02b, 0xc02f,
      0x009e, 0xc024, 0xc028, 0x006b, 0xc023, 0xc027, 0x0067, 0xc00a, 0xc014, 0x0039, 0xc009,
      0xc013, 0x0033, 0x009d, 0x009c, 0x003d, 0x003c, 0x0035, 0x002f, 0x00ff};
  std::span<const uint16_t> list = chrome    ? std::span<const uint16_t>(kChromeSuites)
                                   : firefox ? std::span<const uint16_t>(kFirefoxSuites)
                                             : std::span<const uint16_t>(kCurlSuites);
  for (uint16_t s : list) o.u16(s);
  o.fill16(suites);
  o.u8(1);  // compression methods: null
  o.u8(0);

  size_t exts = o.hole(2);
  auto ext = [&](uint16_t type) {
    o.u16(type);
    return o.hole(2);
  };
  if (chrome) o.fill16(ext(grease(g >> 4)));
  {
    size_t e = ext(0);  // server_name
    size_t list_len = o.hole(2);
    o.u8(0);  // host_name
    o.u16(uint16_t(prm.sni.size()));
    o.bytes(prm.sni.data(), prm.sni.size());
    o.fill16(list_len);
    o.fill16(e);
  }
  o.fill16(ext(23));  // extended_master_secret
  if (!curl) {
    size_t e = ext(0xff01);  // renegotiation_info
    o.u8(0);
    o.fill16(e);
  }
  {
    size_t e = ext(10);  // supported_groups
    size_t l = o.hole(2);
    if (chrome) o.u16(grease(g >> 8));
    o.u16(0x001d);
    o.u16(0x0017);
    o.u16(0x0018);
    if (!chrome) o.u16(0x0019);
    if (firefox) {
      o.u16(0x0100);
      o.u16(0x0101);
    }
    o.fill16(l);
    o.fill16(e);
  }
  {
    size_t e = ext(11);  // ec_point_formats
    if (curl) {
      o.u8(3);
      o.u8(0);
      o.u8(1);
      o.u8(2);
    } else {
      o.u8(1);
      o.u8(0);
    }
    o.fill16(e);
  }
  o.fill16(ext(35));  // session_ticket
  {
    size_t e = ext(16);  // ALPN
    size_t l = o.hole(2);
    if (prm.offer_h2) {
      o.u8(2);
      o.bytes("h2", 2);
    }
    o.u8(8);
    o.bytes("http/1.1", 8);
    o.fill16(l);
    o.fill16(e);
  }
  if (!curl) {
    size_t e = ext(5);  // status_request: OCSP, no responder ids or extensions
    o.u8(1);
    o.u16(0);
    o.u16(0);
    o.fill16(e);
  }
  if (curl) o.fill16(ext(22));  // encrypt_then_mac
  {
    size_t e = ext(13);  // signature_algorithms
    size_t l = o.hole(2);
    static constexpr uint16_t kAlgs[] = {0x0403, 0x0804, 0x0401, 0x0503,
                                         0x0805, 0x0501, 0x0806, 0x0601};
    for (uint16_t a : kAlgs) o.u16(a);
    if (!chrome) {
      o.u16(0x0203);
      o.u16(0x0201);
    }
    o.fill16(l);
    o.fill16(e);
  }
  if (chrome) o.fill16(ext(18));  // signed_certificate_timestamp
  {
    size_t e = ext(51);  // key_share
    size_t l = o.hole(2);
    if (chrome) {
      o.u16(grease(g >> 12));
      o.u16(1);
      o.u8(0);
    }
    o.u16(0x001d);
    o.u16(32);
    o.random(st, 32);
    if (firefox) {
      o.u16(0x0017);
      o.u16(65);
      o.u8(4);  // uncompressed point
      o.random(st, 64);
    }
    o.fill16(l);
    o.fill16(e);
  }
  {
    size_t e = ext(45);  // psk_key_exchange_modes: psk_dhe_ke
    o.u8(1);
    o.u8(1);
    o.fill16(e);
  }
  {
    size_t e = ext(43);  // supported_versions
    size_t l = o.hole(1);
    if (chrome) o.u16(grease(g >> 16));
    o.u16(0x0304);
    o.u16(0x0303);
    out[l] = uint8_t(o.n - l - 1);
    o.fill16(e);
  }
  if (chrome) {
    size_t e = ext(27);  // compress_certificate: brotli
    o.u8(2);
    o.u16(2);
    o.fill16(e);
    size_t e2 = ext(grease(g >> 20));
    o.u8(0);
    o.fill16(e2);
  }
  if (firefox) {
    size_t e = ext(28);  // record_size_limit
    o.u16(0x4001);
    o.fill16(e);
  }
  if (!curl) {
    // BoringSSL and NSS pad hellos of 256..511 bytes to 512 to dodge a middlebox bug.
    size_t hello_len = o.n - hs - 3 + 4;
    if (hello_len > 0xff && hello_len < 0x200) {
      size_t pad = 0x200 - hello_len;
      pad = pad >= 5 ? pad - 4 : 1;
      size_t e = ext(21);
      std::memset(out + o.n, 0, pad);
      o.n += pad;
      o.fill16(e);
    }
  }
  o.fill16(exts);
  o.fill24(hs);
  o.fill16(rec);
  return o.n;
}

size_t build_server_hello(uint8_t* out, uint64_t seed, uint16_t cipher_suite) {
  uint64_t st = seed ^ 0x5e7e7'0000'0000ULL;
  Out o{out};
  o.u8(22);
  o.u16(0x0303);
  size_t rec = o.hole(2);
  o.u8(2);  // ServerHello
  size_t hs = o.hole(3);
  o.u16(0x0303);
  o.random(st, 32);
  o.u8(32);
  uint64_t sid = seed ^ 0x5e5510'0000'0000ULL;
  o.random(sid, 32);
  o.u16(cipher_suite);
  o.u8(0);
  size_t exts = o.hole(2);
  o.u16(43);  // supported_versions: TLS 1.3
  o.u16(2);
  o.u16(0x0304);
  o.u16(51);  // key_share: x25519
  o.u16(36);
  o.u16(0x001d);
  o.u16(32);
  o.random(st, 32);
  o.fill16(exts);
  o.fill24(hs);
  o.fill16(rec);
  static constexpr uint8_t kCcs[] = {20, 3, 3, 0, 1, 1};
  o.bytes(kCcs, sizeof kCcs);
  return o.n;
}

size_t build_client_finished(uint8_t* out, uint64_t seed) {
  uint64_t st = seed ^ 0xf1'0000'0000ULL;
  Out o{out};
  static constexpr uint8_t kCcs[] = {20, 3, 3, 0, 1, 1};
  o.bytes(kCcs, sizeof kCcs);
  o.u8(23);
  o.u16(0x0303);
  o.u16(53);
  o.random(st, 53);
  return o.n;
}

size_t build_http_request(char* out, std::string_view host, std::string_view path,
                          std::string_view user_agent, uint32_t body_len) {
  int n;
  if (body_len) {
    n = std::snprintf(out, 1024,
                      "POST %.*s HTTP/1.1\r\nHost: %.*s\r\nUser-Agent: %.*s\r\nAccept: */*\r\n"
                      "Content-Type: application/octet-stream\r\nContent-Length: %u\r\n"
                      "Connection: keep-alive\r\n\r\n",
                      int(path.size()), path.data(), int(host.size()), host.data(),
                      int(user_agent.size()), user_agent.data(), body_len);
  } else {
    n = std::snprintf(out, 1024,
                      "GET %.*s HTTP/1.1\r\nHost: %.*s\r\nUser-Agent: %.*s\r\nAccept: */*\r\n"
                      "Accept-Language: en-US,en;q=0.9\r\nAccept-Encoding: gzip, deflate\r\n"
                      "Connection: keep-alive\r\n\r\n",
                      int(path.size()), path.data(), int(host.size()), host.data(),
                      int(user_agent.size()), user_agent.data());
  }
  return n > 0 ? size_t(n) : 0;
}

size_t build_http_response(char* out, int status, std::string_view content_type, uint32_t body_len,
                           std::string_view host) {
  int n;
  switch (status) {
    case 304:
      n = std::snprintf(out, 512,
                        "HTTP/1.1 304 Not Modified\r\nServer: nginx/1.22.1\r\n"
                        "ETag: \"64a3f1c2-%x\"\r\nConnection: keep-alive\r\n\r\n",
                        body_len);
      break;
    case 301:
      n = std::snprintf(out, 512,
                        "HTTP/1.1 301 Moved Permanently\r\nServer: nginx/1.22.1\r\n"
                        "Content-Type: text/html\r\nContent-Length: %u\r\n"
                        "Location: https://%.*s/\r\nConnection: keep-alive\r\n\r\n",
                        body_len, int(host.size()), host.data());
      break;
    default:
      n = std::snprintf(out, 512,
                        "HTTP/1.1 %d %s\r\nServer: nginx/1.22.1\r\nContent-Type: %.*s\r\n"
                        "Content-Length: %u\r\nConnection: keep-alive\r\n\r\n",
                        status, status == 404 ? "Not Found" : "OK", int(content_type.size()),
                        content_type.data(), body_len);
  }
  return n > 0 ? size_t(n) : 0;
}

}  // namespace flowkit::gen
