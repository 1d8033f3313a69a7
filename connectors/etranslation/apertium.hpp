#pragma once
// The offline backend: Apertium (Debian packages apertium + apertium-<pair>), run as a child
// process per translation with a timeout, so the gateway translates with no eTranslation account.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bbgw::etranslation {

struct apertium_config {
  std::string command = "/usr/bin/apertium";
  std::string data_dir;  // passed as -d when set (default: the packages' /usr/share/apertium)
  std::chrono::milliseconds timeout{10000};
};

// ISO 639-3 code of an upper-case ISO 639-1 code ("EN" -> "eng"); empty when unknown. Apertium
// pairs are named either way ("en-es" or "eng-spa").
std::string iso639_3(std::string_view iso639_1);

struct child_result {
  bool started = false;
  bool timed_out = false;
  int exit_code = -1;  // or 128 + signal
  std::string out, err;
};

// Runs argv (no shell) in its own process group with `input` on stdin; kills the whole group
// when `timeout` passes. Output beyond `max_output` bytes is dropped.
child_result run_child(std::vector<std::string> const& argv, std::string_view input,
                       std::chrono::milliseconds timeout, std::size_t max_output = 8 << 20);

// The document formats Apertium translates here (file extension -> Apertium's -f format); other
// formats are eTranslation's only.
std::optional<std::string> apertium_document_format(std::string_view extension);
// "txt, html, htm": for messages.
std::string apertium_document_formats_text();

class apertium_backend {
 public:
  // Lists the installed modes (`apertium -l`); none when Apertium is not installed.
  explicit apertium_backend(apertium_config cfg);

  std::vector<std::string> const& installed() const { return modes_; }
  // The mode translating source -> target (upper-case ISO 639-1), if installed.
  std::optional<std::string> mode_for(std::string_view source, std::string_view target) const;
  // "eng-spa, spa-eng" or "none (install apertium and a pair package such as apertium-en-es)".
  std::string installed_text() const;

  struct outcome {
    bool ok = false;
    std::string text;   // ok
    std::string error;  // !ok
  };
  // format: an Apertium deformatter ("txt", "html"). Text ("txt") loses its trailing newlines;
  // documents (keep_trailing) come back byte for byte as Apertium wrote them.
  outcome translate(std::string const& mode, std::string_view text,
                    std::string const& format = "txt", bool keep_trailing = false) const;

 private:
  apertium_config cfg_;
  std::vector<std::string> modes_;
};

}  // namespace bbgw::etranslation
