// A node whose callers are told apart: tokens issued through the API, calls as their holders,
// and the security records of the audit. Shared by the attack suite's authorization tests.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "control_fixture.h"

namespace sie {

class AuthzTest : public ControlApiTest {
 protected:
  // A token the admin issued through the API.
  std::string issue(const std::string& identity, const std::string& role,
                    const std::string& ttl = "1h") {
    const Reply r =
        call("POST", "/api/v1/tokens",
             fmt::format(R"({{"identity":"{}","role":"{}","ttl":"{}"}})", identity, role, ttl),
             "-H 'Content-Type: application/json'");
    EXPECT_EQ(r.status, 201) << r.text;
    return r.body.value("token", "");
  }
  // curl as the holder of `token` ("" for none).
  Reply as(const std::string& token, const std::string& method, const std::string& path,
           const std::string& body = "", const std::string& args = "") {
    auth_ = false;
    const Reply r = call(method, path, body,
                         (token.empty() ? "" : "-H 'Authorization: Bearer " + token + "' ") + args);
    auth_ = true;
    return r;
  }
  // The audit's records of refused calls, oldest first; `subject` "policy" lists the policy
  // file's loads instead.
  std::vector<nlohmann::json> denials(const std::string& subject = "denied") {
    std::vector<nlohmann::json> out;
    const auto records = node_->state().audit().tail(1000);
    for (const auto& record : *records) {
      if (record.kind == "security" && record.subject == subject) {
        out.push_back(nlohmann::json::parse(record.body));
      }
    }
    return out;
  }
};

}  // namespace sie
