#include "query/filter.h"

#include <fmt/core.h>

#include <algorithm>
#include <bit>
#include <cctype>
#include <cmath>
#include <cstring>
#include <functional>
#include <optional>
#include <regex>
#include <vector>

#include "core/field_registry.h"
#include "core/ip_address.h"

namespace flowkit::query {
namespace {

// ---- Tokens ----------------------------------------------------------------------------------

struct Token {
  enum Kind { kWord, kString, kSymbol, kEnd } kind;
  std::string text;
  size_t at;  // column (0-based)
};

bool word_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' ||
         c == ':' || c == '/' || c == '*';
}

Result<std::vector<Token>> tokenize(std::string_view s) {
  std::vector<Token> out;
  size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else if (c == '"' || c == '\'') {
      size_t end = s.find(c, i + 1);
      if (end == std::string_view::npos)
        return Status::invalid_argument(fmt::format("column {}: unclosed quote", i + 1));
      out.push_back({Token::kString, std::string(s.substr(i + 1, end - i - 1)), i});
      i = end + 1;
    } else if (word_char(c)) {
      size_t start = i;
      while (i < s.size() && word_char(s[i])) ++i;
      out.push_back({Token::kWord, std::string(s.substr(start, i - start)), start});
    } else {
      // Two-character symbols first.
      std::string_view two = s.substr(i, 2);
      for (std::string_view sym : {"==", "!=", "<=", ">=", "&&", "||"}) {
        if (two == sym) {
          out.push_back({Token::kSymbol, std::string(sym), i});
          i += 2;
          goto next;
        }
      }
      if (std::string_view("()[]=<>!~,").find(c) == std::string_view::npos)
        return Status::invalid_argument(fmt::format("column {}: unexpected '{}'", i + 1, c));
      out.push_back({Token::kSymbol, std::string(1, c), i});
      ++i;
    next:;
    }
  }
  out.push_back({Token::kEnd, "", s.size()});
  return out;
}

std::string lower(std::string s) {
  for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// ---- Values and predicates -------------------------------------------------------------------

enum class Op { kEq, kNe, kLt, kGt, kLe, kGe };

bool compare(double a, Op op, double b) {
  switch (op) {
    case Op::kEq:
      return a == b;
    case Op::kNe:
      return a != b;
    case Op::kLt:
      return a < b;
    case Op::kGt:
      return a > b;
    case Op::kLe:
      return a <= b;
    case Op::kGe:
      return a >= b;
  }
  return false;
}

// A number of a record, or none (the field is absent).
using NumberOf = std::function<std::optional<double>(const FlowRecord&)>;
using IpOf = std::function<std::optional<IpAddress>(const FlowRecord&)>;

bool icmp(const FlowRecord& r) {
  return r.protocol == 1 || r.protocol == 58;
}

double seconds(const FlowRecord& r) {
  return double(r.last().ns - r.first().ns) / 1e9;
}

std::optional<double> number_value(const FieldValue& v) {
  if (auto* u = std::get_if<uint64_t>(&v)) return double(*u);
  if (auto* d = std::get_if<double>(&v)) return *d;
  if (auto* t = std::get_if<Timestamp>(&v)) return double(t->ns);
  if (auto* m = std::get_if<MacAddress>(&v)) {
    uint64_t x = 0;
    for (uint8_t b : m->b) x = x << 8 | b;
    return double(x);
  }
  return std::nullopt;
}

struct Node {
  enum Kind { kAny, kAnd, kOr, kNot, kTest } kind = kAny;
  std::vector<Node> kids;
  // kTest: the record passes.
  std::function<bool(const FlowRecord&)> test;
};

bool eval(const Node& n, const FlowRecord& r) {
  switch (n.kind) {
    case Node::kAny:
      return true;
    case Node::kAnd:
      for (const Node& k : n.kids)
        if (!eval(k, r)) return false;
      return true;
    case Node::kOr:
      for (const Node& k : n.kids)
        if (eval(k, r)) return true;
      return false;
    case Node::kNot:
      return !eval(n.kids[0], r);
    case Node::kTest:
      return n.test(r);
  }
  return false;
}

// Which ends a primitive looks at: `src`, `dst`, either (none given, or `src or dst`) or both.
enum class Ends { kSrc, kDst, kEither, kBoth };

// ---- Parser ----------------------------------------------------------------------------------

class Parser {
 public:
  Parser(std::string_view text, std::vector<Token> tokens)
      : text_(text), tokens_(std::move(tokens)) {}

  Result<Node> parse() {
    if (peek().kind == Token::kEnd) return Node{};
    auto n = expr();
    if (!n) return n;
    if (peek().kind != Token::kEnd) return error(peek(), "'and', 'or' or the end");
    return n;
  }

 private:
  const Token& peek(size_t ahead = 0) const {
    return tokens_[std::min(pos_ + ahead, tokens_.size() - 1)];
  }
  Token take() { return tokens_[std::min(pos_++, tokens_.size() - 1)]; }
  bool is(std::string_view word, size_t ahead = 0) const {
    const Token& t = peek(ahead);
    return t.kind != Token::kString && lower(t.text) == word;
  }
  bool accept(std::string_view word) {
    if (!is(word)) return false;
    ++pos_;
    return true;
  }
  Status error(const Token& at, std::string_view expected) const {
    std::string found = at.kind == Token::kEnd ? "the end" : "'" + at.text + "'";
    return Status::invalid_argument(
        fmt::format("filter, column {}: expected {}, found {}\n  {}\n  {}^", at.at + 1, expected,
                    found, text_, std::string(at.at, ' ')));
  }

  Result<Node> expr() {
    auto left = term();
    if (!left) return left;
    Node n;
    n.kind = Node::kOr;
    n.kids.push_back(std::move(*left));
    while (accept("or") || accept("||")) {
      auto right = term();
      if (!right) return right;
      n.kids.push_back(std::move(*right));
    }
    if (n.kids.size() == 1) return std::move(n.kids[0]);
    return n;
  }
  Result<Node> term() {
    auto left = factor();
    if (!left) return left;
    Node n;
    n.kind = Node::kAnd;
    n.kids.push_back(std::move(*left));
    while (accept("and") || accept("&&")) {
      auto right = factor();
      if (!right) return right;
      n.kids.push_back(std::move(*right));
    }
    if (n.kids.size() == 1) return std::move(n.kids[0]);
    return n;
  }
  Result<Node> factor() {
    if (accept("not") || accept("!")) {
      auto k = factor();
      if (!k) return k;
      Node n;
      n.kind = Node::kNot;
      n.kids.push_back(std::move(*k));
      return n;
    }
    if (accept("(")) {
      auto n = expr();
      if (!n) return n;
      if (!accept(")")) return error(peek(), "')'");
      return n;
    }
    return primitive();
  }

  // [OP]: = by default.
  Op op() {
    static const std::pair<std::string_view, Op> kOps[] = {
        {"=", Op::kEq},  {"==", Op::kEq}, {"eq", Op::kEq}, {"!=", Op::kNe}, {"ne", Op::kNe},
        {"<", Op::kLt},  {"lt", Op::kLt}, {">", Op::kGt},  {"gt", Op::kGt}, {"<=", Op::kLe},
        {"le", Op::kLe}, {">=", Op::kGe}, {"ge", Op::kGe}};
    for (auto [word, o] : kOps)
      if (accept(word)) return o;
    return Op::kEq;
  }
  bool at_op() const {
    for (std::string_view w :
         {"=", "==", "eq", "!=", "ne", "<", "lt", ">", "gt", "<=", "le", ">=", "ge"})
      if (is(w)) return true;
    return false;
  }
  // N with an optional k/M/G (thousands, as nfdump).
  Result<double> number() {
    const Token& t = peek();
    if (t.kind != Token::kWord) return error(t, "a number");
    std::string s = t.text;
    double scale = 1;
    if (!s.empty()) {
      char u = char(std::tolower(static_cast<unsigned char>(s.back())));
      if (u == 'k' || u == 'm' || u == 'g') {
        scale = u == 'k' ? 1e3 : u == 'm' ? 1e6 : 1e9;
        s.pop_back();
      }
    }
    size_t used = 0;
    double v = 0;
    try {
      v = std::stod(s, &used);
    } catch (...) {
      used = 0;
    }
    if (s.empty() || used != s.size() || !std::isfinite(v)) return error(t, "a number");
    ++pos_;
    return v * scale;
  }
  Result<std::vector<double>> number_list() {
    if (!accept("[")) return error(peek(), "'['");
    std::vector<double> v;
    while (!accept("]")) {
      if (peek().kind == Token::kEnd) return error(peek(), "a number or ']'");
      accept(",");
      auto n = number();
      if (!n) return n.status();
      v.push_back(*n);
      accept(",");
    }
    return v;
  }

  // A test on numbers: OP N, or `in [ ... ]`.
  Result<Node> numbers(std::vector<NumberOf> of, Ends ends) {
    std::vector<double> set;
    Op o = Op::kEq;
    if (accept("in")) {
      auto l = number_list();
      if (!l) return l.status();
      set = std::move(*l);
    } else {
      o = op();
      auto n = number();
      if (!n) return n.status();
      set.push_back(*n);
    }
    Node n;
    n.kind = Node::kTest;
    n.test = [of = std::move(of), set = std::move(set), o, ends](const FlowRecord& r) {
      auto one = [&](const NumberOf& f) {
        std::optional<double> v = f(r);
        if (!v) return false;
        for (double x : set)
          if (compare(*v, o, x)) return true;
        return false;
      };
      if (ends == Ends::kBoth) return std::all_of(of.begin(), of.end(), one);
      return std::any_of(of.begin(), of.end(), one);
    };
    return n;
  }

  Result<Node> addresses(std::vector<IpOf> of, Ends ends, bool net) {
    const Token& t = peek();
    if (t.kind != Token::kWord) return error(t, net ? "a network (10.0.0.0/8)" : "an address");
    std::string text = t.text;
    int bits = -1;
    if (size_t slash = text.find('/'); slash != std::string::npos) {
      try {
        bits = std::stoi(text.substr(slash + 1));
      } catch (...) {
        return error(t, "a prefix length after '/'");
      }
      text = text.substr(0, slash);
    }
    auto a = IpAddress::parse(text);
    if (!a) return error(t, net ? "a network (10.0.0.0/8)" : "an address");
    ++pos_;
    if (net && bits < 0) {
      // net A.B.C.D M.M.M.M: a dotted mask.
      const Token& m = peek();
      auto mask = m.kind == Token::kWord ? IpAddress::parse(m.text) : std::nullopt;
      if (!mask || !mask->is_v4()) return error(m, "a prefix length (/24) or a mask");
      ++pos_;
      bits = std::popcount(mask->v4_host_order());
    }
    int total = a->is_v4() ? 32 : 128;
    if (bits < 0) bits = total;
    if (bits > total) return error(t, "a prefix length that fits the address");
    // Compare as 16 bytes: IPv4 addresses are held mapped, so their prefix starts at bit 96.
    int prefix = a->is_v4() ? bits + 96 : bits;
    IpAddress want = *a;
    Node n;
    n.kind = Node::kTest;
    n.test = [of = std::move(of), want, prefix, ends](const FlowRecord& r) {
      auto one = [&](const IpOf& f) {
        std::optional<IpAddress> v = f(r);
        if (!v) return false;
        const uint8_t *x = v->bytes(), *y = want.bytes();
        int full = prefix / 8, rest = prefix % 8;
        if (std::memcmp(x, y, size_t(full)) != 0) return false;
        if (!rest) return true;
        uint8_t m = uint8_t(0xff << (8 - rest));
        return (x[full] & m) == (y[full] & m);
      };
      if (ends == Ends::kBoth) return std::all_of(of.begin(), of.end(), one);
      return std::any_of(of.begin(), of.end(), one);
    };
    return n;
  }

  // `src`, `dst`, `src or dst`, `src and dst`, or nothing (either).
  Ends ends() {
    auto two_words = [&](std::string_view joint) {
      return is("src") && is(joint, 1) && is("dst", 2);
    };
    if (two_words("or")) {
      pos_ += 3;
      return Ends::kEither;
    }
    if (two_words("and")) {
      pos_ += 3;
      return Ends::kBoth;
    }
    if (accept("src")) return Ends::kSrc;
    if (accept("dst")) return Ends::kDst;
    return Ends::kEither;
  }
  template <class F>
  static std::vector<F> pick(Ends e, F src, F dst) {
    if (e == Ends::kSrc) return {src};
    if (e == Ends::kDst) return {dst};
    return {src, dst};
  }

  Result<Node> primitive() {
    const Token& first = peek();
    if (accept("any")) return Node{};
    if (accept("proto")) {
      static const std::pair<std::string_view, int> kNames[] = {
          {"icmp", 1}, {"igmp", 2}, {"tcp", 6},    {"udp", 17},       {"gre", 47},
          {"esp", 50}, {"ah", 51},  {"icmp6", 58}, {"ipv6-icmp", 58}, {"sctp", 132}};
      for (auto [name, num] : kNames) {
        if (accept(name)) return test([num](const FlowRecord& r) { return r.protocol == num; });
      }
      auto n = number();
      if (!n)
        return error(first.kind == Token::kEnd ? first : peek(),
                     "a protocol (tcp, udp, icmp or a number)");
      int num = int(*n);
      return test([num](const FlowRecord& r) { return r.protocol == num; });
    }
    if (accept("inet") || accept("ipv4"))
      return test([](const FlowRecord& r) { return r.ip_version == 4; });
    if (accept("inet6") || accept("ipv6"))
      return test([](const FlowRecord& r) { return r.ip_version == 6; });
    if (accept("flags")) {
      const Token& t = peek();
      if (t.kind != Token::kWord) return error(t, "TCP flags (e.g. SA)");
      uint8_t want = 0;
      for (char c : t.text) {
        size_t bit =
            std::string_view("FSRPAUEC").find(char(std::toupper(static_cast<unsigned char>(c))));
        if (c == 'X' || c == 'x') {
          want = 0x3f;
          continue;
        }
        if (bit == std::string_view::npos) return error(t, "TCP flags from FSRPAUEC");
        want |= uint8_t(1u << bit);
      }
      ++pos_;
      return test([want](const FlowRecord& r) {
        return r.protocol == 6 && ((r.fwd.tcp_flags | r.rev.tcp_flags) & want) == want;
      });
    }
    if (accept("router")) {
      if (!accept("ip")) return error(peek(), "'ip'");
      return addresses({[](const FlowRecord& r) { return std::optional(r.exporter_ip); }},
                       Ends::kEither, false);
    }
    if (accept("next")) {
      if (!accept("ip")) return error(peek(), "'ip'");
      return addresses({[](const FlowRecord& r) { return std::optional(r.next_hop); }},
                       Ends::kEither, false);
    }
    // Counters and rates: both directions of a biflow.
    static const std::pair<std::string_view, std::optional<double> (*)(const FlowRecord&)>
        kCounters[] = {
            {"packets",
             [](const FlowRecord& r) {
               return std::optional(double(r.fwd.packets + r.rev.packets));
             }},
            {"bytes",
             [](const FlowRecord& r) { return std::optional(double(r.fwd.bytes + r.rev.bytes)); }},
            {"duration", [](const FlowRecord& r) { return std::optional(seconds(r) * 1000); }},
            {"pps",
             [](const FlowRecord& r) {
               double s = seconds(r);
               return std::optional(s > 0 ? double(r.fwd.packets + r.rev.packets) / s : 0.0);
             }},
            {"bps",
             [](const FlowRecord& r) {
               double s = seconds(r);
               return std::optional(s > 0 ? double(r.fwd.bytes + r.rev.bytes) * 8 / s : 0.0);
             }},
            {"bpp",
             [](const FlowRecord& r) {
               uint64_t p = r.fwd.packets + r.rev.packets;
               return std::optional(p ? double(r.fwd.bytes + r.rev.bytes) / double(p) : 0.0);
             }},
            {"tos", [](const FlowRecord& r) { return std::optional(double(r.fwd.tos)); }},
            {"icmp-type",
             [](const FlowRecord& r) {
               return icmp(r) ? std::optional(double(r.fwd.icmp_type)) : std::nullopt;
             }},
            {"icmp-code",
             [](const FlowRecord& r) {
               return icmp(r) ? std::optional(double(r.fwd.icmp_code)) : std::nullopt;
             }},
            {"vlan",
             [](const FlowRecord& r) {
               return r.fwd.vlan_depth ? std::optional(double(r.fwd.vlan_id)) : std::nullopt;
             }},
        };
    for (auto [name, f] : kCounters)
      if (accept(name)) return numbers({f}, Ends::kEither);
    // in|out if N
    if ((is("in") || is("out")) && is("if", 1)) {
      bool in = is("in");
      pos_ += 2;
      NumberOf f =
          in ? NumberOf([](const FlowRecord& r) { return std::optional(double(r.fwd.in_if)); })
             : NumberOf([](const FlowRecord& r) { return std::optional(double(r.fwd.out_if)); });
      return numbers({f}, Ends::kEither);
    }
    if (accept("if")) {
      return numbers({[](const FlowRecord& r) { return std::optional(double(r.fwd.in_if)); },
                      [](const FlowRecord& r) { return std::optional(double(r.fwd.out_if)); }},
                     Ends::kEither);
    }
    // [src|dst] ip|host|net|port|as
    size_t mark = pos_;
    Ends e = ends();
    bool qualified = pos_ != mark;
    if (accept("ip") || accept("host")) {
      return addresses(pick<IpOf>(
                           e, [](const FlowRecord& r) { return std::optional(r.src_ip); },
                           [](const FlowRecord& r) { return std::optional(r.dst_ip); }),
                       e, false);
    }
    if (accept("net")) {
      return addresses(pick<IpOf>(
                           e, [](const FlowRecord& r) { return std::optional(r.src_ip); },
                           [](const FlowRecord& r) { return std::optional(r.dst_ip); }),
                       e, true);
    }
    if (accept("port")) {
      NumberOf src = [](const FlowRecord& r) {
        return std::optional(double(icmp(r) ? 0 : r.src_port));
      };
      NumberOf dst = [](const FlowRecord& r) {
        return std::optional(
            double(icmp(r) ? r.fwd.icmp_type * 256 + r.fwd.icmp_code : r.dst_port));
      };
      return numbers(pick(e, src, dst), e);
    }
    if (accept("as")) {
      return numbers(pick<NumberOf>(
                         e, [](const FlowRecord& r) { return std::optional(double(r.src_as)); },
                         [](const FlowRecord& r) { return std::optional(double(r.dst_as)); }),
                     e);
    }
    if (qualified) return error(peek(), "ip, host, net, port or as after src/dst");
    return field_test();
  }

  // FIELD OP VALUE, FIELD in [...], FIELD ~ "re", FIELD contains "text".
  Result<Node> field_test() {
    const Token& t = peek();
    Direction dir = Direction::kForward;
    const FieldInfo* f = t.kind == Token::kWord ? find_field(lower(t.text), &dir) : nullptr;
    if (!f)
      return error(t,
                   "a filter keyword (proto, ip, net, port, packets, bytes...) or a field "
                   "name (flowkit fields lists them)");
    ++pos_;
    // A field the record does not have matches nothing (not even `!= x`).
    auto get = [f, dir](const FlowRecord& r) {
      return field_present(*f, r, dir) ? f->get(r, dir) : FieldValue{};
    };
    if (f->type == FieldType::kUtf8 || f->type == FieldType::kBytes) {
      bool regex = accept("~");
      bool contains = !regex && accept("contains");
      bool ne = !regex && !contains && (accept("!=") || accept("ne"));
      if (!regex && !contains && !ne && !(accept("=") || accept("==") || accept("eq")))
        return error(peek(), "=, !=, ~ or contains");
      const Token& v = peek();
      if (v.kind != Token::kString && v.kind != Token::kWord) return error(v, "a quoted string");
      std::string want = v.text;
      ++pos_;
      if (regex) {
        std::shared_ptr<std::regex> re;
        try {
          re = std::make_shared<std::regex>(want, std::regex::extended);
        } catch (const std::regex_error&) {
          return error(v, "a valid regular expression");
        }
        return test([get, re](const FlowRecord& r) {
          FieldValue v = get(r);
          auto* s = std::get_if<std::string_view>(&v);
          return s && std::regex_search(s->begin(), s->end(), *re);
        });
      }
      return test([get, want, contains, ne](const FlowRecord& r) {
        FieldValue v = get(r);
        auto* s = std::get_if<std::string_view>(&v);
        if (!s) return false;
        if (contains) return s->find(want) != std::string_view::npos;
        return (*s == want) != ne;
      });
    }
    if (f->type == FieldType::kIp) {
      Op o = at_op() ? op() : Op::kEq;
      auto n = addresses({[get](const FlowRecord& r) -> std::optional<IpAddress> {
                           FieldValue v = get(r);
                           auto* a = std::get_if<IpAddress>(&v);
                           return a ? std::optional(*a) : std::nullopt;
                         }},
                         Ends::kEither, true);
      if (!n || o == Op::kEq) return n;
      Node neg;
      neg.kind = Node::kNot;
      neg.kids.push_back(std::move(*n));
      return neg;
    }
    // Numbers, times, enums, MAC addresses (as numbers of their 6 bytes).
    return numbers({[get](const FlowRecord& r) { return number_value(get(r)); }}, Ends::kEither);
  }

  static Node test(std::function<bool(const FlowRecord&)> f) {
    Node n;
    n.kind = Node::kTest;
    n.test = std::move(f);
    return n;
  }

  std::string_view text_;
  std::vector<Token> tokens_;
  size_t pos_ = 0;
};

}  // namespace

struct Filter::Impl {
  Node root;
};

Filter::Filter() : impl_(std::make_unique<Impl>()) {}
Filter::Filter(Filter&&) noexcept = default;
Filter& Filter::operator=(Filter&&) noexcept = default;
Filter::~Filter() = default;

Result<Filter> Filter::parse(std::string_view text) {
  auto tokens = tokenize(text);
  if (!tokens) return Status::invalid_argument("filter, " + tokens.status().message());
  Parser p(text, std::move(*tokens));
  auto root = p.parse();
  if (!root) return root.status();
  Filter f;
  f.impl_->root = std::move(*root);
  return f;
}

bool Filter::matches(const FlowRecord& r) const {
  return eval(impl_->root, r);
}

bool Filter::any() const {
  return impl_->root.kind == Node::kAny;
}

}  // namespace flowkit::query
