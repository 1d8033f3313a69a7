#include "ops/json_logger.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace bbgw::ops {

namespace {

spdlog::level::level_enum to_spd(log_level l) {
  switch (l) {
    case log_level::debug: return spdlog::level::debug;
    case log_level::info: return spdlog::level::info;
    case log_level::warn: return spdlog::level::warn;
    case log_level::error: return spdlog::level::err;
  }
  return spdlog::level::info;
}

char const* level_name(log_level l) {
  switch (l) {
    case log_level::debug: return "debug";
    case log_level::info: return "info";
    case log_level::warn: return "warn";
    case log_level::error: return "error";
  }
  return "info";
}

void append_json_string(std::string& out, std::string_view s) {
  out += boost::json::serialize(boost::json::string_view(s.data(), s.size()));
}

}  // namespace

log_level parse_log_level(std::string_view s) {
  if (s == "debug") return log_level::debug;
  if (s == "warn") return log_level::warn;
  if (s == "error") return log_level::error;
  return log_level::info;
}

json_logger::json_logger(log_settings const& s)
    : min_(parse_log_level(s.level)), json_(s.format != "text") {
  spdlog::sink_ptr sink;
  if (s.file.empty())
    sink = std::make_shared<spdlog::sinks::stdout_sink_mt>();
  else
    sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(s.file);
  // Not registered in spdlog's global registry: the logger is owned here and passed explicitly.
  out_ = std::make_shared<spdlog::logger>("bbgw", std::move(sink));
  out_->set_level(to_spd(min_));
  out_->flush_on(spdlog::level::info);
  if (json_)
    out_->set_pattern(R"({"ts":"%Y-%m-%dT%H:%M:%S.%fZ",%v})",
                      spdlog::pattern_time_type::utc);
  else
    out_->set_pattern("%Y-%m-%dT%H:%M:%S.%fZ %v", spdlog::pattern_time_type::utc);
}

json_logger::~json_logger() { flush(); }

void json_logger::flush() { out_->flush(); }

void json_logger::log(log_level level, std::string_view message,
                      std::initializer_list<log_field> fields) {
  if (!enabled(level)) return;
  std::string line;
  line.reserve(128);
  if (json_) {
    line += "\"level\":\"";
    line += level_name(level);
    line += "\",\"msg\":";
    append_json_string(line, message);
    for (auto const& f : fields) {
      line += ',';
      append_json_string(line, f.key);
      line += ':';
      append_json_string(line, f.value);
    }
  } else {
    line += level_name(level);
    line += ' ';
    line += message;
    for (auto const& f : fields) {
      line += ' ';
      line += f.key;
      line += '=';
      line += f.value;
    }
  }
  out_->log(to_spd(level), line);
}

}  // namespace bbgw::ops
