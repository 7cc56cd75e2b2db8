// The TLS tests' certificates (tests/fixtures/make-test-certificates says which), made by
// the openssl command in a scratch directory that lives as long as this object.
#pragma once

#include <cstdlib>
#include <stdexcept>
#include <string>

#include "test_support.hpp"

class TestCertificates {
 public:
  TestCertificates() {
    const std::string command = std::string(MAKE_TEST_CERTIFICATES) + " '" + dir_.path().string() + "'";
    if (std::system(command.c_str()) != 0)
      throw std::runtime_error("openssl could not make the test certificates: " + read_file(file("openssl.log")));
  }

  std::string file(const std::string& name) const { return dir_.file(name); }

 private:
  ScratchDir dir_;
};
