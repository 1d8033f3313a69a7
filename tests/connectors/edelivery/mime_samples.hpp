#pragma once
// A small multipart/related body (a SOAP root and one base64 attachment) and its Content-Type,
// for the MIME parser tests (mime_test.cpp, mime_stream_test.cpp).
#include <string>

namespace bbgw::edelivery::test {

inline std::string const mime_ct =
    "multipart/related; type=\"application/soap+xml\"; boundary=\"b1\"; start=\"<root@x>\"";

inline std::string two_parts() {
  return "--b1\r\nContent-Type: application/soap+xml\r\nContent-ID: <root@x>\r\n\r\n<e/>\r\n"
         "--b1\r\nContent-Type: application/octet-stream\r\nContent-ID: <p1@x>\r\n"
         "Content-Transfer-Encoding: base64\r\n\r\naGVsbG8=\r\n--b1--\r\n";
}

}  // namespace bbgw::edelivery::test
