#include "etranslation/upstream_codes.hpp"

#include <charconv>

namespace bbgw::etranslation {

std::optional<upstream_answer> parse_answer(std::string_view body) {
  auto trim = [](std::string_view& s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  };
  trim(body);
  if (body.size() >= 2 && body.front() == '"' && body.back() == '"') {
    body = body.substr(1, body.size() - 2);
    trim(body);
  }
  if (body.empty()) return std::nullopt;
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(body.data(), body.data() + body.size(), v);
  if (ec != std::errc{} || p != body.data() + body.size() || v == 0) return std::nullopt;
  return upstream_answer{v};
}

std::string describe_code(std::int64_t code) {
  std::string_view what;
  switch (code) {
    case -20000:
      what = "source language missing";
      break;
    case -20001:
      what = "invalid source language";
      break;
    case -20002:
      what = "target language(s) missing";
      break;
    case -20003:
      what = "invalid target language(s)";
      break;
    case -20007:
      what = "application not authorised to access the service";
      break;
    case -20010:
      what = "bad format for http address";
      break;
    case -20013:
      what = "language pair not supported by the domain";
      break;
    case -20021:
      what = "text to translate too long";
      break;
    case -20025:
      what = "missing destination";
      break;
    case -20026:
      what = "bad requester callback protocol";
      break;
    case -20027:
      what = "bad error callback protocol";
      break;
    case -20028:
      what = "concurrency quota exceeded; retry later";
      break;
    case -20029:
      what = "document format not supported";
      break;
    case -20030:
      what = "text to translate is empty";
      break;
    case -20046:
      what = "document too big (> 20 MB)";
      break;
    default:
      what = "unknown eTranslation error";
      break;
  }
  return std::to_string(code) + ": " + std::string(what);
}

}  // namespace bbgw::etranslation
