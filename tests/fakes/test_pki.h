// A throwaway PKI for the fake servers: a CA, a server certificate for chosen names, and a client
// certificate for mutual TLS, all generated with the OpenSSL API at start-up.
#pragma once

#include <string>
#include <vector>

#include "common/core/result.h"

namespace t0w::fakes {

struct TestPkiFiles {
  std::string ca_cert;      // PEM; clients trust this
  std::string server_cert;  // PEM chain: server certificate then CA
  std::string server_key;
  std::string client_cert;  // PEM chain for mutual TLS
  std::string client_key;
};

// Writes the files into `dir`. `server_names` become subjectAltNames ("DNS:localhost",
// "IP:127.0.0.1", ...); the first one's value is the subject CN. `ca_name` is the CA's CN: OpenSSL
// finds a trusted CA by its subject, so two test PKIs that must not stand in for each other need
// two names.
Result<TestPkiFiles> writeTestPki(const std::string& dir,
                                  const std::vector<std::string>& server_names,
                                  const std::string& ca_name = "Tier0Watch test CA");

// "<subject hash>.0", the name under which OpenSSL looks the CA certificate in `pem_file` up in
// a hashed directory (a system store such as Debian's /etc/ssl/certs); empty when unreadable.
std::string hashedCaFileName(const std::string& pem_file);

}  // namespace t0w::fakes
