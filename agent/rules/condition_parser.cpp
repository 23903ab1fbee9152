#include "agent/rules/condition_parser.h"

#include <cctype>

#include "common/text/ascii.h"

namespace t0w {
namespace {

struct Token {
  enum class Kind { kName, kLParen, kRParen, kEnd };
  Kind kind = Kind::kEnd;
  std::string text;
  size_t pos = 0;
};

bool isNameChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '*' || c == '-' ||
         c == '.' || c == '?';
}

class Parser {
 public:
  Parser(std::string_view text, const RuleLimits& limits) : text_(text), limits_(limits) {}

  Result<ConditionNode> parse() {
    if (text_.size() > limits_.max_condition_bytes) {
      return makeError(Errc::kLimit, "condition longer than " +
                                         std::to_string(limits_.max_condition_bytes) + " bytes");
    }
    if (!tokenize()) return error_;
    ConditionNode root;
    if (!parseOr(root, 0)) return error_;
    if (peek().kind != Token::Kind::kEnd) {
      return fail("unexpected '" + peek().text + "' at offset " + std::to_string(peek().pos));
    }
    return root;
  }

 private:
  Error fail(std::string msg) {
    error_ = makeError(Errc::kParse, "condition: " + std::move(msg));
    return error_;
  }

  bool tokenize() {
    size_t i = 0;
    while (i < text_.size()) {
      char c = text_[i];
      if (std::isspace(static_cast<unsigned char>(c))) {
        ++i;
      } else if (c == '(') {
        tokens_.push_back({Token::Kind::kLParen, "(", i++});
      } else if (c == ')') {
        tokens_.push_back({Token::Kind::kRParen, ")", i++});
      } else if (c == '|') {
        fail(
            "aggregation expressions ('| count() ...') are not supported; use a correlation "
            "rule");
        return false;
      } else if (isNameChar(c)) {
        size_t start = i;
        while (i < text_.size() && isNameChar(text_[i])) ++i;
        tokens_.push_back({Token::Kind::kName, std::string(text_.substr(start, i - start)), start});
      } else {
        fail(std::string("unexpected character '") + c + "' at offset " + std::to_string(i));
        return false;
      }
    }
    tokens_.push_back({Token::Kind::kEnd, "end of condition", text_.size()});
    return true;
  }

  const Token& peek() const { return tokens_[pos_]; }
  bool peekKeyword(std::string_view kw) const {
    return peek().kind == Token::Kind::kName && equalsIgnoreCaseAscii(peek().text, kw);
  }
  bool isReserved(std::string_view w) const {
    return equalsIgnoreCaseAscii(w, "and") || equalsIgnoreCaseAscii(w, "or") ||
           equalsIgnoreCaseAscii(w, "not") || equalsIgnoreCaseAscii(w, "of") ||
           equalsIgnoreCaseAscii(w, "them");
  }

  bool enter(size_t depth) {
    if (depth > limits_.max_condition_depth) {
      fail("nested deeper than " + std::to_string(limits_.max_condition_depth) + " levels");
      return false;
    }
    if (++nodes_ > limits_.max_condition_nodes) {
      fail("more than " + std::to_string(limits_.max_condition_nodes) + " terms");
      return false;
    }
    return true;
  }

  bool parseOr(ConditionNode& out, size_t depth) {
    if (!enter(depth)) return false;
    ConditionNode first;
    if (!parseAnd(first, depth + 1)) return false;
    if (!peekKeyword("or")) {
      out = std::move(first);
      return true;
    }
    out.kind = ConditionNode::Kind::kOr;
    out.children.push_back(std::move(first));
    while (peekKeyword("or")) {
      ++pos_;
      ConditionNode next;
      if (!parseAnd(next, depth + 1)) return false;
      out.children.push_back(std::move(next));
    }
    return true;
  }

  bool parseAnd(ConditionNode& out, size_t depth) {
    if (!enter(depth)) return false;
    ConditionNode first;
    if (!parseUnary(first, depth + 1)) return false;
    if (!peekKeyword("and")) {
      out = std::move(first);
      return true;
    }
    out.kind = ConditionNode::Kind::kAnd;
    out.children.push_back(std::move(first));
    while (peekKeyword("and")) {
      ++pos_;
      ConditionNode next;
      if (!parseUnary(next, depth + 1)) return false;
      out.children.push_back(std::move(next));
    }
    return true;
  }

  bool parseUnary(ConditionNode& out, size_t depth) {
    if (!enter(depth)) return false;
    if (peekKeyword("not")) {
      ++pos_;
      out.kind = ConditionNode::Kind::kNot;
      out.children.emplace_back();
      return parseUnary(out.children.back(), depth + 1);
    }
    return parsePrimary(out, depth + 1);
  }

  bool parsePrimary(ConditionNode& out, size_t depth) {
    const Token& t = peek();
    if (t.kind == Token::Kind::kLParen) {
      ++pos_;
      if (!parseOr(out, depth + 1)) return false;
      if (peek().kind != Token::Kind::kRParen) {
        fail("expected ')' at offset " + std::to_string(peek().pos) + ", found '" + peek().text +
             "'");
        return false;
      }
      ++pos_;
      return true;
    }
    if (t.kind != Token::Kind::kName) {
      fail("expected a selection name at offset " + std::to_string(t.pos) + ", found '" + t.text +
           "'");
      return false;
    }
    const bool quant = t.text == "1" || equalsIgnoreCaseAscii(t.text, "any") ||
                       equalsIgnoreCaseAscii(t.text, "all");
    if (quant && tokens_[pos_ + 1].kind == Token::Kind::kName &&
        equalsIgnoreCaseAscii(tokens_[pos_ + 1].text, "of")) {
      out.kind = equalsIgnoreCaseAscii(t.text, "all") ? ConditionNode::Kind::kAllOf
                                                      : ConditionNode::Kind::kOneOf;
      pos_ += 2;
      const Token& target = peek();
      if (target.kind != Token::Kind::kName ||
          (isReserved(target.text) && !equalsIgnoreCaseAscii(target.text, "them"))) {
        fail("expected a name pattern or 'them' after '" + t.text + " of' at offset " +
             std::to_string(target.pos));
        return false;
      }
      out.name = equalsIgnoreCaseAscii(target.text, "them") ? "them" : target.text;
      ++pos_;
      return true;
    }
    if (isReserved(t.text)) {
      fail("unexpected keyword '" + t.text + "' at offset " + std::to_string(t.pos));
      return false;
    }
    out.kind = ConditionNode::Kind::kName;
    out.name = t.text;
    ++pos_;
    return true;
  }

  std::string_view text_;
  const RuleLimits& limits_;
  std::vector<Token> tokens_;
  size_t pos_ = 0;
  size_t nodes_ = 0;
  Error error_;
};

}  // namespace

Result<ConditionNode> parseCondition(std::string_view text, const RuleLimits& limits) {
  Parser p(text, limits);
  return p.parse();
}

bool matchNamePattern(std::string_view pattern, std::string_view name) {
  // Iterative glob with backtracking to the last '*': linear in practice, never recursive.
  size_t p = 0, n = 0, star = std::string_view::npos, mark = 0;
  while (n < name.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = n;
    } else if (p < pattern.size() && (pattern[p] == name[n] || pattern[p] == '?')) {
      ++p;
      ++n;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      n = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

}  // namespace t0w
