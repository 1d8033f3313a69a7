#pragma once
// Reading the AS4 interop vectors of ../shared/fixtures/as4 (read-only) for the tests.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "bbgw/clock.hpp"
#include "bbgw/date_time.hpp"
#include "edelivery/config.hpp"
#include "edelivery/mime.hpp"
#include "xmlsec/key.hpp"

namespace bbgw::edelivery::test {

inline std::string fixture(std::string_view rel) {
  std::ifstream in(std::string(BBGW_SHARED_DIR "/fixtures/as4/") + std::string(rel),
                   std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// An HTTP response dump (.as4in): header lines, an empty line, the body.
struct http_dump {
  std::string content_type;
  std::string body;
};

inline http_dump split_dump(std::string const& dump) {
  http_dump d;
  auto end = dump.find("\n\n");
  std::size_t skip = 2;
  if (auto crlf = dump.find("\r\n\r\n"); crlf != std::string::npos && crlf < end) {
    end = crlf;
    skip = 4;
  }
  std::istringstream headers(dump.substr(0, end));
  for (std::string line; std::getline(headers, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.size() > 13 && strncasecmp(line.c_str(), "Content-Type:", 13) == 0)
      d.content_type = line.substr(line.find_first_not_of(' ', 13));
  }
  d.body = dump.substr(end + skip);
  return d;
}

// The certificate in the message's first BinarySecurityToken: tests trust exactly that one.
inline xmlsec::key bst_certificate(std::string const& xml) {
  std::smatch m;
  std::regex re("BinarySecurityToken[^>]*>([^<]*)<");
  EXPECT_TRUE(std::regex_search(xml, m, re));
  auto der = base64_decode(m[1].str());
  EXPECT_TRUE(der);
  auto k = xmlsec::key::from_certificate_der(der.value_or(""));
  EXPECT_TRUE(k) << k.error().message();
  return k.value();
}

inline xmlsec::key pfx(std::string_view rel, std::string_view password) {
  auto k = xmlsec::key::from_pkcs12_file(
      std::string(BBGW_SHARED_DIR "/fixtures/as4/") + std::string(rel), password);
  EXPECT_TRUE(k) << rel << ": " << k.error().message();
  return k.value();
}

// "2018-12-19T08:56:26Z" → that instant.
inline sys_time at(std::string_view iso) {
  auto t = parse_rfc3339(iso);
  EXPECT_TRUE(t) << iso;
  return t.value_or(sys_time{});
}

// B's configuration for the Holodeck B2B vectors (AccessPointB receiving from AccessPointA with
// the fixtures' PMode "holodeck-test"), payloads under `dir`/payloads.
inline edelivery_config holodeck_receiver_config(std::filesystem::path const& dir) {
  edelivery_config c;
  c.own_key = pfx("as4net/AccessPointB.pfx", "Pz4cZK4SULUwmraZb");
  c.payload_dir = (dir / "payloads").string();
  c.xsd_dir = BBGW_SOURCE_DIR "/schemas/xsd/ebms";
  pmode p;
  p.id = "holodeck-test";
  p.agreement = "http://agreements.holodeckb2b.org/examples/agreement0";
  p.service = "Test";
  p.service_type = "org:holodeckb2b:services";
  p.action = "StoreMessage";
  p.initiator = {"org:holodeckb2b:example:company:A", "", "Sender"};
  p.responder = {"org:eu:europa:as4:example", "", "Receiver"};
  p.encrypt = true;
  p.partner_certificates = {pfx("as4net/AccessPointA.pfx", "Pz4cZK4SULUwmraZa").public_only()};
  c.pmodes.push_back(p);
  return c;
}

}  // namespace bbgw::edelivery::test
