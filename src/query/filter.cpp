#include "query/filter.h"

#include <fmt/core.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cctype>
#include <cmath>
#include <cstring>
#include <deque>
#include <optional>
#include <regex>
#include <type_traits>
#include <vector>

#include "core/field_registry.h"
#include "core/ip_address.h"
#include "query/row_loop.h"
#include "query/values.h"

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

// ---- Tests on a block's columns ----------------------------------------------------------------

enum class Op { kEq, kNe, kLt, kGt, kLe, kGe, kAllBits };

template <class T>
bool compare(T a, Op op, T b) {
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
    case Op::kAllBits:
      if constexpr (std::is_integral_v<T>) return (a & b) == b;
      return false;
  }
  return false;
}

// out[i] |= v[i] OP x, one loop per operator so that each vectorizes.
template <class T>
FLOWKIT_ROW_LOOP void compare_into(std::span<const T> v, Op op, T x, uint8_t* out) {
  const size_t n = v.size();
  switch (op) {
    case Op::kEq:
      for (size_t i = 0; i < n; ++i) out[i] |= v[i] == x;
      return;
    case Op::kNe:
      for (size_t i = 0; i < n; ++i) out[i] |= v[i] != x;
      return;
    case Op::kLt:
      for (size_t i = 0; i < n; ++i) out[i] |= v[i] < x;
      return;
    case Op::kGt:
      for (size_t i = 0; i < n; ++i) out[i] |= v[i] > x;
      return;
    case Op::kLe:
      for (size_t i = 0; i < n; ++i) out[i] |= v[i] <= x;
      return;
    case Op::kGe:
      for (size_t i = 0; i < n; ++i) out[i] |= v[i] >= x;
      return;
    case Op::kAllBits:
      for (size_t i = 0; i < n; ++i) out[i] |= compare(v[i], op, x);
      return;
  }
}

FLOWKIT_ROW_LOOP void and_into(uint8_t* out, const uint8_t* x, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] &= x[i];
}
FLOWKIT_ROW_LOOP void or_into(uint8_t* out, const uint8_t* x, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] |= x[i];
}
FLOWKIT_ROW_LOOP void flip(uint8_t* out, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] ^= 1;
}

void and_presence(std::span<const uint8_t> has, uint8_t* out, size_t n) {
  if (!has.empty()) and_into(out, has.data(), n);
}

// out[i] = whether address i is in the network (mask m, network w, as two 64-bit halves).
FLOWKIT_ROW_LOOP void in_network(const IpAddress* ips, size_t n, uint64_t m0, uint64_t m1,
                                 uint64_t w0, uint64_t w1, uint8_t* out) {
  for (size_t i = 0; i < n; ++i) {
    uint64_t x0, x1;
    std::memcpy(&x0, ips[i].bytes(), 8);
    std::memcpy(&x1, ips[i].bytes() + 8, 8);
    out[i] = ((x0 & m0) == w0) & ((x1 & m1) == w1);
  }
}

const store::ColumnDescriptor* descriptor(const store::BlockHeader& h, const Column& c) {
  for (const store::ColumnDescriptor& d : h.columns)
    if (d.field == uint16_t(c.field->id) && d.dir == c.dir) return &d;
  return nullptr;
}

struct Leaf {
  virtual ~Leaf() = default;
  virtual void inputs(std::vector<Column>& out) const = 0;
  virtual bool all_columns() const { return false; }
  virtual bool may_match(const store::BlockHeader&) const { return true; }
  // out[row] = 1 where the row passes, 0 elsewhere.
  virtual void eval(const store::Block& b, uint8_t* out) const = 0;
};

// A number compared with one value, or equal to one of a set (`in [ ... ]`).
struct NumberLeaf : Leaf {
  Source src;
  Op op = Op::kEq;
  std::vector<double> values;
  bool exact = false;  // integers compared as integers (the values are all whole)
  std::vector<int64_t> ints;

  NumberLeaf(Source s, Op o, std::vector<double> v) : src(s), op(o), values(std::move(v)) {
    exact = !source_is_double(src);
    for (double x : values) exact = exact && x == std::trunc(x) && std::abs(x) < 9.2e18;
    if (exact)
      for (double x : values) ints.push_back(int64_t(x));
  }
  void inputs(std::vector<Column>& out) const override { source_inputs(src, out); }
  bool may_match(const store::BlockHeader& h) const override {
    Column col = src.col;
    if (src.kind == Derived::kTotal) {
      // Both directions add up: the forward column alone bounds them only without the other.
      if (descriptor(h, {col.field, Direction::kReverse})) return true;
    } else if (src.kind != Derived::kNone) {
      return true;
    }
    const store::ColumnDescriptor* d = descriptor(h, col);
    if (!d) return false;  // no row has a value
    if (!d->has_minmax || !exact) return true;
    bool is_signed = col.field->type == FieldType::kTime;
    if (!is_signed && d->max > uint64_t(INT64_MAX)) return true;
    int64_t lo = int64_t(d->min), hi = int64_t(d->max);
    for (int64_t x : ints) {
      bool can = false;
      switch (op) {
        case Op::kEq:
          can = lo <= x && x <= hi;
          break;
        case Op::kNe:
          can = !(lo == hi && lo == x);
          break;
        case Op::kLt:
          can = lo < x;
          break;
        case Op::kLe:
          can = lo <= x;
          break;
        case Op::kGt:
          can = hi > x;
          break;
        case Op::kGe:
          can = hi >= x;
          break;
        case Op::kAllBits:
          can = true;
          break;
      }
      if (can) return true;
    }
    return false;
  }
  void eval(const store::Block& b, uint8_t* out) const override {
    static thread_local Numbers v;
    read_numbers(src, b, v);
    std::fill(out, out + b.rows, 0);
    if (v.none) return;
    if (exact) {
      for (int64_t x : ints) compare_into<int64_t>(v.ints, op, x, out);
    } else {
      static thread_local std::vector<double> as_double;
      std::span<const double> reals = v.reals;
      if (!v.doubles) {
        as_double.assign(v.ints.begin(), v.ints.end());
        reals = as_double;
      }
      for (double x : values) compare_into<double>(reals, op, x, out);
    }
    and_presence(v.has, out, b.rows);
  }
};

// An address in a network: the first `prefix` bits of the 16 bytes (IPv4 is held mapped, so
// its prefixes start at bit 96).
struct AddressLeaf : Leaf {
  Column col;
  std::array<uint8_t, 16> lo{}, hi{}, mask{};

  AddressLeaf(Column c, const IpAddress& want, int prefix) : col(c) {
    for (int i = 0; i < 16; ++i) {
      int bits = std::clamp(prefix - i * 8, 0, 8);
      mask[i] = uint8_t(0xff00 >> bits);
      lo[i] = want.bytes()[i] & mask[i];
      hi[i] = lo[i] | uint8_t(~mask[i]);
    }
  }
  void inputs(std::vector<Column>& out) const override { out.push_back(col); }
  bool may_match(const store::BlockHeader& h) const override {
    const store::ColumnDescriptor* d = descriptor(h, col);
    if (!d) return false;
    if (!d->has_minmax) return true;
    // Every address of the block is IPv4, from min to max.
    IpAddress a = IpAddress::v4(uint32_t(d->min)), z = IpAddress::v4(uint32_t(d->max));
    return std::memcmp(z.bytes(), lo.data(), 16) >= 0 && std::memcmp(a.bytes(), hi.data(), 16) <= 0;
  }
  void eval(const store::Block& b, uint8_t* out) const override {
    const store::ColumnData* c = b.find(col.field->id, col.dir);
    if (!c) {
      std::fill(out, out + b.rows, 0);
      return;
    }
    uint64_t m0, m1, w0, w1;
    std::memcpy(&m0, mask.data(), 8);
    std::memcpy(&m1, mask.data() + 8, 8);
    std::memcpy(&w0, lo.data(), 8);
    std::memcpy(&w1, lo.data() + 8, 8);
    in_network(c->ips.data(), b.rows, m0, m1, w0, w1, out);
    and_presence(c->present, out, b.rows);
  }
};

struct StringLeaf : Leaf {
  enum Mode { kEq, kNe, kContains, kRegex } mode;
  Column col;
  std::string want;
  std::shared_ptr<const std::regex> re;

  StringLeaf(Column c, Mode m, std::string w) : mode(m), col(c), want(std::move(w)) {}
  void inputs(std::vector<Column>& out) const override { out.push_back(col); }
  bool may_match(const store::BlockHeader& h) const override { return descriptor(h, col); }
  void eval(const store::Block& b, uint8_t* out) const override {
    const store::ColumnData* c = b.find(col.field->id, col.dir);
    for (uint32_t i = 0; i < b.rows; ++i) {
      if (!c || !c->has(i)) {
        out[i] = 0;
        continue;
      }
      std::string_view s = c->strings[i];
      switch (mode) {
        case kEq:
          out[i] = s == want;
          break;
        case kNe:
          out[i] = s != want;
          break;
        case kContains:
          out[i] = s.find(want) != std::string_view::npos;
          break;
        case kRegex:
          out[i] = std::regex_search(s.begin(), s.end(), *re);
          break;
      }
    }
  }
};

// A derived field other than the duration: its value comes from whole records.
struct RecordLeaf : Leaf {
  const FieldInfo* field;
  Direction dir;
  Op op;
  std::vector<double> values;

  void inputs(std::vector<Column>&) const override {}
  bool all_columns() const override { return true; }
  void eval(const store::Block& b, uint8_t* out) const override {
    static thread_local std::vector<FlowRecord> records;
    records.clear();
    uint64_t dropped = 0;
    b.to_records(records, &dropped);
    for (uint32_t i = 0; i < b.rows; ++i) {
      out[i] = 0;
      if (!field_present(*field, records[i], dir)) continue;
      FieldValue v = field->get(records[i], dir);
      double x = 0;
      if (auto* u = std::get_if<uint64_t>(&v)) {
        x = double(*u);
      } else if (auto* d = std::get_if<double>(&v)) {
        x = *d;
      } else {
        continue;
      }
      for (double want : values) out[i] |= compare(x, op, want);
    }
  }
};

struct Node {
  enum Kind { kAny, kAnd, kOr, kNot, kTest } kind = kAny;
  std::vector<Node> kids;
  std::shared_ptr<const Leaf> leaf;
};

Node test(std::shared_ptr<const Leaf> leaf) {
  Node n;
  n.kind = Node::kTest;
  n.leaf = std::move(leaf);
  return n;
}

Node join(Node::Kind kind, std::vector<Node> kids) {
  if (kids.size() == 1) return std::move(kids[0]);
  Node n;
  n.kind = kind;
  n.kids = std::move(kids);
  return n;
}

void eval_node(const Node& n, const store::Block& b, uint8_t* out, size_t depth) {
  // One scratch mask per depth of the tree, kept across blocks (a deque: deeper levels added
  // later leave this level's mask where it is).
  static thread_local std::deque<std::vector<uint8_t>> scratch;
  const uint32_t rows = b.rows;
  switch (n.kind) {
    case Node::kAny:
      std::fill(out, out + rows, 1);
      return;
    case Node::kTest:
      n.leaf->eval(b, out);
      return;
    case Node::kNot:
      eval_node(n.kids[0], b, out, depth + 1);
      flip(out, rows);
      return;
    case Node::kAnd:
    case Node::kOr: {
      bool is_and = n.kind == Node::kAnd;
      eval_node(n.kids[0], b, out, depth + 1);
      if (scratch.size() <= depth) scratch.resize(depth + 1);
      std::vector<uint8_t>& tmp = scratch[depth];
      tmp.resize(rows);
      for (size_t k = 1; k < n.kids.size(); ++k) {
        // Stop once the answer is settled for every row.
        uint8_t settled = is_and ? 0 : 1;
        if (std::all_of(out, out + rows, [&](uint8_t x) { return x == settled; })) return;
        eval_node(n.kids[k], b, tmp.data(), depth + 1);
        if (is_and) {
          and_into(out, tmp.data(), rows);
        } else {
          or_into(out, tmp.data(), rows);
        }
      }
      return;
    }
  }
}

bool may_match_node(const Node& n, const store::BlockHeader& h) {
  switch (n.kind) {
    case Node::kAny:
    case Node::kNot:
      return true;
    case Node::kTest:
      return n.leaf->may_match(h);
    case Node::kAnd:
      return std::all_of(n.kids.begin(), n.kids.end(),
                         [&](const Node& k) { return may_match_node(k, h); });
    case Node::kOr:
      return std::any_of(n.kids.begin(), n.kids.end(),
                         [&](const Node& k) { return may_match_node(k, h); });
  }
  return true;
}

void collect_inputs(const Node& n, std::vector<Column>& out, bool* all) {
  if (n.leaf) {
    n.leaf->inputs(out);
    *all = *all || n.leaf->all_columns();
  }
  for (const Node& k : n.kids) collect_inputs(k, out, all);
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

  // expr: term (or term)*; term: factor (and factor)*.
  Result<Node> expr() { return chain(Node::kOr, {"or", "||"}, &Parser::term); }
  Result<Node> term() { return chain(Node::kAnd, {"and", "&&"}, &Parser::factor); }
  Result<Node> chain(Node::Kind kind, std::array<std::string_view, 2> words,
                     Result<Node> (Parser::*next)()) {
    std::vector<Node> kids;
    do {
      auto k = (this->*next)();
      if (!k) return k;
      kids.push_back(std::move(*k));
    } while (accept(words[0]) || accept(words[1]));
    return join(kind, std::move(kids));
  }
  Result<Node> factor() {
    // Parentheses and `not` nest by recursion (and so does evaluation): a bound keeps a hostile
    // filter from exhausting the stack.
    if (++depth_ > kMaxDepth)
      return error(peek(), "fewer nested parentheses and 'not's (64 at most)");
    auto n = unary();
    --depth_;
    return n;
  }
  Result<Node> unary() {
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
  static constexpr std::pair<std::string_view, Op> kOps[] = {
      {"==", Op::kEq}, {"=", Op::kEq},  {"eq", Op::kEq}, {"!=", Op::kNe}, {"ne", Op::kNe},
      {"<=", Op::kLe}, {"le", Op::kLe}, {">=", Op::kGe}, {"ge", Op::kGe}, {"<", Op::kLt},
      {"lt", Op::kLt}, {">", Op::kGt},  {"gt", Op::kGt}};
  bool at_op() const {
    return std::any_of(std::begin(kOps), std::end(kOps),
                       [&](const auto& o) { return is(o.first); });
  }
  Op op() {
    for (auto [word, o] : kOps)
      if (accept(word)) return o;
    return Op::kEq;
  }
  // N with an optional k/M/G (thousands, as nfdump), or a MAC address (its 6 bytes as a number).
  Result<double> number() {
    const Token& t = peek();
    if (t.kind != Token::kWord) return error(t, "a number");
    if (auto mac = MacAddress::parse(t.text)) {
      ++pos_;
      uint64_t x = 0;
      for (uint8_t b : mac->b) x = x << 8 | b;
      return double(x);
    }
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

  // OP N, or `in [ N ... ]`, on each source; `ends` joins them.
  Result<Node> numbers(std::vector<Source> sources, Ends ends) {
    std::vector<double> set;
    Op o = Op::kEq;
    if (accept("in")) {
      if (!accept("[")) return error(peek(), "'['");
      while (!accept("]")) {
        if (peek().kind == Token::kEnd) return error(peek(), "a number or ']'");
        accept(",");
        auto n = number();
        if (!n) return n.status();
        set.push_back(*n);
        accept(",");
      }
    } else {
      o = op();
      auto n = number();
      if (!n) return n.status();
      set.push_back(*n);
    }
    std::vector<Node> kids;
    for (const Source& s : sources) kids.push_back(test(std::make_shared<NumberLeaf>(s, o, set)));
    return join(ends == Ends::kBoth ? Node::kAnd : Node::kOr, std::move(kids));
  }

  // ADDR, CIDR, or (net) ADDR MASK, on each column.
  Result<Node> addresses(std::vector<Column> cols, Ends ends, bool net) {
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
      const Token& m = peek();
      auto mask = m.kind == Token::kWord ? IpAddress::parse(m.text) : std::nullopt;
      if (!mask || !mask->is_v4()) return error(m, "a prefix length (/24) or a mask");
      ++pos_;
      bits = std::popcount(mask->v4_host_order());
    }
    int total = a->is_v4() ? 32 : 128;
    if (bits < 0) bits = total;
    if (bits > total) return error(t, "a prefix length that fits the address");
    int prefix = a->is_v4() ? bits + 96 : bits;
    std::vector<Node> kids;
    for (const Column& c : cols) kids.push_back(test(std::make_shared<AddressLeaf>(c, *a, prefix)));
    return join(ends == Ends::kBoth ? Node::kAnd : Node::kOr, std::move(kids));
  }

  // `src`, `dst`, `src or dst`, `src and dst`, `in`, `out`, `router`, `next`, `bgpnext`.
  struct Qualified {
    NfdumpQualifier q = NfdumpQualifier::kNone;
    Ends ends = Ends::kEither;
  };
  Qualified qualifier() {
    auto three = [&](std::string_view joint) { return is("src") && is(joint, 1) && is("dst", 2); };
    // Both ends: the bare keyword's pair of fields.
    if (three("or")) {
      pos_ += 3;
      return {NfdumpQualifier::kNone, Ends::kEither};
    }
    if (three("and")) {
      pos_ += 3;
      return {NfdumpQualifier::kNone, Ends::kBoth};
    }
    static const std::pair<std::string_view, NfdumpQualifier> kWords[] = {
        {"src", NfdumpQualifier::kSrc},        {"dst", NfdumpQualifier::kDst},
        {"in", NfdumpQualifier::kIn},          {"out", NfdumpQualifier::kOut},
        {"router", NfdumpQualifier::kRouter},  {"next", NfdumpQualifier::kNext},
        {"bgpnext", NfdumpQualifier::kBgpNext}};
    // `in [` is a list, not a qualifier.
    if (is("in") && is("[", 1)) return {};
    for (auto [word, q] : kWords)
      if (accept(word)) return {q, q == NfdumpQualifier::kDst ? Ends::kDst : Ends::kSrc};
    return {};
  }
  // The aliases whose keyword (one or more words) comes next, the longest; their count of words.
  size_t keyword_words(std::string_view keyword) const {
    size_t words = 0, at = 0;
    while (at < keyword.size()) {
      size_t end = keyword.find(' ', at);
      if (end == std::string_view::npos) end = keyword.size();
      if (!is(keyword.substr(at, end - at), words)) return 0;
      ++words;
      at = end + 1;
    }
    return words;
  }
  std::vector<const NfdumpAlias*> aliases(NfdumpQualifier q, size_t* words) const {
    std::vector<const NfdumpAlias*> found;
    *words = 0;
    for (const NfdumpAlias& a : nfdump_aliases()) {
      size_t w = keyword_words(a.keyword);
      if (!w || w < *words) continue;
      bool fits = a.qualifier == q;
      if (w > *words) found.clear();
      if (fits) {
        found.push_back(&a);
        *words = w;
      }
    }
    return found;
  }

  Result<Node> primitive() {
    if (accept("any")) return Node{};
    const Token& start = peek();
    size_t mark = pos_;
    Qualified qual = qualifier();
    const size_t after = pos_;
    size_t words = 0;
    std::vector<const NfdumpAlias*> found = aliases(qual.q, &words);
    if (found.empty() && qual.q != NfdumpQualifier::kNone) {
      // `src mac`: a keyword that itself starts with a qualifier's word.
      pos_ = mark;
      qual = {};
      found = aliases(NfdumpQualifier::kNone, &words);
    }
    if (found.empty() && qual.q == NfdumpQualifier::kNone) {
      // A bare keyword means either end: the fields with a src/dst (in/out) qualifier.
      for (NfdumpQualifier pair : {NfdumpQualifier::kSrc, NfdumpQualifier::kIn}) {
        found = aliases(pair, &words);
        if (found.empty()) continue;
        size_t w2 = 0;
        NfdumpQualifier other =
            pair == NfdumpQualifier::kSrc ? NfdumpQualifier::kDst : NfdumpQualifier::kOut;
        for (const NfdumpAlias* a : aliases(other, &w2))
          if (w2 == words) found.push_back(a);
        break;
      }
    }
    if (found.empty()) {
      if (after != mark) {
        pos_ = after;
        return error(peek(), "ip, host, net, port or as after src/dst");
      }
      if (auto rate = rates()) return *rate;
      return field_test(start);
    }
    std::string keyword(found[0]->keyword);
    pos_ += words;
    return alias_test(found, keyword, qual.ends);
  }

  // pps, bps, bpp: nfdump's rates, which name no field.
  std::optional<Result<Node>> rates() {
    static const std::pair<std::string_view, Derived> kRates[] = {
        {"pps", Derived::kPps}, {"bps", Derived::kBps}, {"bpp", Derived::kBpp}};
    for (auto [word, kind] : kRates)
      if (accept(word)) return numbers({Source{kind, {}}}, Ends::kEither);
    return std::nullopt;
  }

  Result<Node> alias_test(const std::vector<const NfdumpAlias*>& found, const std::string& keyword,
                          Ends ends) {
    const NfdumpAlias& a = *found[0];
    const FieldInfo& f = field_info(a.field);
    if (a.value) {
      return test(std::make_shared<NumberLeaf>(Source{Derived::kNone, {&f, a.dir}}, Op::kEq,
                                               std::vector<double>{double(*a.value)}));
    }
    if (f.type == FieldType::kIp) {
      std::vector<Column> cols;
      for (const NfdumpAlias* x : found) cols.push_back(column(x->field, x->dir));
      return addresses(cols, ends, keyword == "net");
    }
    switch (a.field) {
      case FieldId::kProtocol:
        return protocol();
      case FieldId::kTcpFlags:
        return flags();
      case FieldId::kDuration:
        return numbers({Source{Derived::kDurationMs, {}}}, Ends::kEither);
      default:
        break;
    }
    std::vector<Source> sources;
    for (const NfdumpAlias* x : found) {
      Column col = column(x->field, x->dir);
      Derived kind = Derived::kNone;
      if (x->field == FieldId::kSrcPort) kind = Derived::kNfSrcPort;
      if (x->field == FieldId::kDstPort) kind = Derived::kNfDstPort;
      // `packets` and `bytes` unqualified: both directions of a biflow.
      if ((x->field == FieldId::kPackets || x->field == FieldId::kBytes) &&
          x->qualifier == NfdumpQualifier::kNone)
        kind = Derived::kTotal;
      sources.push_back({kind, col});
    }
    return numbers(std::move(sources), ends);
  }

  Result<Node> protocol() {
    static const std::pair<std::string_view, int> kNames[] = {
        {"icmp", 1}, {"igmp", 2}, {"tcp", 6},    {"udp", 17},       {"gre", 47},
        {"esp", 50}, {"ah", 51},  {"icmp6", 58}, {"ipv6-icmp", 58}, {"sctp", 132}};
    double num = -1;
    for (auto [name, n] : kNames)
      if (accept(name)) num = n;
    if (num < 0) {
      const Token& at = peek();
      auto n = number();
      if (!n) return error(at, "a protocol (tcp, udp, icmp or a number)");
      num = *n;
    }
    return test(std::make_shared<NumberLeaf>(Source{Derived::kNone, column(FieldId::kProtocol)},
                                             Op::kEq, std::vector<double>{num}));
  }

  Result<Node> flags() {
    const Token& t = peek();
    if (t.kind != Token::kWord) return error(t, "TCP flags (e.g. SA)");
    uint8_t want = 0;
    for (char c : t.text) {
      if (c == 'X' || c == 'x') {
        want = 0x3f;
        continue;
      }
      size_t bit =
          std::string_view("FSRPAUEC").find(char(std::toupper(static_cast<unsigned char>(c))));
      if (bit == std::string_view::npos) return error(t, "TCP flags from FSRPAUEC");
      want |= uint8_t(1u << bit);
    }
    ++pos_;
    return test(std::make_shared<NumberLeaf>(Source{Derived::kTcpFlags, {}}, Op::kAllBits,
                                             std::vector<double>{double(want)}));
  }

  // FIELD OP VALUE, FIELD in [...], FIELD ~ "re", FIELD contains "text".
  Result<Node> field_test(const Token& t) {
    Direction dir = Direction::kForward;
    const FieldInfo* f = t.kind == Token::kWord ? find_field(lower(t.text), &dir) : nullptr;
    if (!f || f->type == FieldType::kList)
      return error(t,
                   "a filter keyword (proto, ip, net, port, packets, bytes...) or a field "
                   "name (flowkit fields lists them)");
    ++pos_;
    Column col{f, dir};
    if (f->type == FieldType::kUtf8 || f->type == FieldType::kBytes) {
      StringLeaf::Mode mode;
      if (accept("~")) {
        mode = StringLeaf::kRegex;
      } else if (accept("contains")) {
        mode = StringLeaf::kContains;
      } else if (accept("!=") || accept("ne")) {
        mode = StringLeaf::kNe;
      } else if (accept("=") || accept("==") || accept("eq")) {
        mode = StringLeaf::kEq;
      } else {
        return error(peek(), "=, !=, ~ or contains");
      }
      const Token& v = peek();
      if (v.kind != Token::kString && v.kind != Token::kWord) return error(v, "a quoted string");
      auto leaf = std::make_shared<StringLeaf>(col, mode, v.text);
      if (mode == StringLeaf::kRegex) {
        try {
          leaf->re = std::make_shared<std::regex>(v.text, std::regex::extended);
        } catch (const std::regex_error&) {
          return error(v, "a valid regular expression");
        }
      }
      ++pos_;
      return test(std::move(leaf));
    }
    if (f->type == FieldType::kIp) {
      Op o = at_op() ? op() : Op::kEq;
      auto n = addresses({col}, Ends::kEither, true);
      if (!n || o == Op::kEq) return n;
      Node neg;
      neg.kind = Node::kNot;
      neg.kids.push_back(std::move(*n));
      // A record without the address fails `!=` too.
      return join(Node::kAnd, {std::move(neg), present(col)});
    }
    if (f->id == FieldId::kDuration)
      return numbers({Source{Derived::kDurationS, {}}}, Ends::kEither);
    if (f->derived) {
      auto leaf = std::make_shared<RecordLeaf>();
      leaf->field = f;
      leaf->dir = dir;
      auto set = numbers({Source{Derived::kNone, col}}, Ends::kEither);
      if (!set) return set;
      const auto& n = static_cast<const NumberLeaf&>(*set->leaf);
      leaf->op = n.op;
      leaf->values = n.values;
      return test(std::move(leaf));
    }
    return numbers({Source{Derived::kNone, col}}, Ends::kEither);
  }

  // The rows where an address column has a value: in ::/0.
  static Node present(const Column& col) {
    return test(std::make_shared<AddressLeaf>(col, IpAddress{}, 0));
  }

  static constexpr int kMaxDepth = 64;
  std::string_view text_;
  std::vector<Token> tokens_;
  size_t pos_ = 0;
  int depth_ = 0;
};

}  // namespace

struct Filter::Impl {
  Node root;
  std::vector<Column> columns;
  bool all = false;
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
  std::vector<Column>& cols = f.impl_->columns;
  collect_inputs(f.impl_->root, cols, &f.impl_->all);
  std::sort(cols.begin(), cols.end(), [](const Column& a, const Column& b) {
    return std::pair(a.field->id, a.dir) < std::pair(b.field->id, b.dir);
  });
  cols.erase(std::unique(cols.begin(), cols.end(),
                         [](const Column& a, const Column& b) {
                           return a.field == b.field && a.dir == b.dir;
                         }),
             cols.end());
  return f;
}

const std::vector<Column>& Filter::columns() const {
  return impl_->columns;
}

bool Filter::all_columns() const {
  return impl_->all;
}

bool Filter::may_match(const store::BlockHeader& h) const {
  return may_match_node(impl_->root, h);
}

void Filter::eval(const store::Block& b, std::vector<uint8_t>& mask) const {
  mask.resize(b.rows);
  eval_node(impl_->root, b, mask.data(), 0);
}

bool Filter::matches(const FlowRecord& r) const {
  static thread_local store::Block block;
  static thread_local std::vector<uint8_t> mask;
  store::records_to_block({&r, 1}, impl_->all ? std::span<const Column>{} : impl_->columns, block);
  eval(block, mask);
  return mask[0] != 0;
}

bool Filter::any() const {
  return impl_->root.kind == Node::kAny;
}

}  // namespace flowkit::query
