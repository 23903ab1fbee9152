#include "common/wire/bounded_json.h"

#include <string>
#include <vector>

namespace t0w {
namespace {

using Json = nlohmann::json;

// Builds the document like nlohmann's own DOM parser (a stack of open containers, no recursion)
// and stops the parse at the first limit it meets.
class BoundedBuilder {
 public:
  explicit BoundedBuilder(const JsonLimits& limits) : limits_(limits) {}

  bool null() { return value(nullptr); }
  bool boolean(bool v) { return value(v); }
  bool number_integer(Json::number_integer_t v) { return value(v); }
  bool number_unsigned(Json::number_unsigned_t v) { return value(v); }
  bool number_float(Json::number_float_t v, const std::string&) { return value(v); }
  bool string(std::string& v) { return checkString(v) && value(std::move(v)); }
  bool binary(Json::binary_t&) { return fail(Errc::kParse, "binary values are not JSON"); }
  bool start_object(std::size_t) { return open(Json::value_t::object); }
  bool start_array(std::size_t) { return open(Json::value_t::array); }
  bool end_object() { return close(); }
  bool end_array() { return close(); }
  bool key(std::string& k) {
    if (!checkString(k) || !count()) return false;
    member_ = &(*stack_.back())[std::move(k)];
    return true;
  }
  bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& e) {
    if (!error_)
      error_ = makeError(Errc::kParse,
                         "byte " + std::to_string(position) + ": " + std::string(e.what()));
    return false;
  }

  Json take() { return std::move(root_); }
  const std::optional<Error>& error() const { return error_; }

 private:
  bool fail(Errc code, std::string message) {
    if (!error_) error_ = makeError(code, std::move(message));
    return false;
  }
  bool count() {
    if (++values_ > limits_.max_values) {
      return fail(Errc::kLimit, "more than " + std::to_string(limits_.max_values) + " JSON values");
    }
    return true;
  }
  bool checkString(const std::string& s) {
    if (s.size() > limits_.max_string_bytes) {
      return fail(Errc::kLimit, "a JSON string of " + std::to_string(s.size()) + " bytes (limit " +
                                    std::to_string(limits_.max_string_bytes) + ")");
    }
    return true;
  }
  // Places a value where the parser is: the root, an array's next element or a member.
  Json* place(Json&& v) {
    if (stack_.empty()) {
      root_ = std::move(v);
      return &root_;
    }
    if (stack_.back()->is_array()) {
      stack_.back()->push_back(std::move(v));
      return &stack_.back()->back();
    }
    *member_ = std::move(v);
    return member_;
  }
  template <typename T>
  bool value(T&& v) {
    if (!count()) return false;
    place(Json(std::forward<T>(v)));
    return true;
  }
  bool open(Json::value_t type) {
    if (stack_.size() >= limits_.max_depth) {
      return fail(Errc::kLimit, "JSON nested deeper than " + std::to_string(limits_.max_depth));
    }
    if (!count()) return false;
    stack_.push_back(place(Json(type)));
    return true;
  }
  bool close() {
    stack_.pop_back();
    return true;
  }

  const JsonLimits& limits_;
  Json root_;
  std::vector<Json*> stack_;  // open containers; pointers stay valid: only the top one grows
  Json* member_ = nullptr;
  size_t values_ = 0;
  std::optional<Error> error_;
};

}  // namespace

Result<nlohmann::json> parseBoundedJson(std::string_view text, const JsonLimits& limits) {
  BoundedBuilder builder(limits);
  const bool ok = Json::sax_parse(text.begin(), text.end(), &builder);
  if (builder.error()) return *builder.error();
  if (!ok) return makeError(Errc::kParse, "not valid JSON");
  return builder.take();
}

}  // namespace t0w
