// Test certificates made with Debian's openssl at test time, in a fresh
// temporary directory: a CA, a server certificate for localhost and
// 127.0.0.1, client certificates, a client certificate signed by another
// CA, and one that expired in 2020 (made with `openssl ca -startdate
// -enddate`, since openssl 3.0's x509 cannot backdate).
#ifndef CCROUTE_TESTS_SECURITY_CERTS_H_
#define CCROUTE_TESTS_SECURITY_CERTS_H_

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace ccroute::testing {

inline std::string ReadText(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

inline void WriteText(const std::filesystem::path& path,
                      const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

class TestCertificates {
 public:
  // Makes the CAs and the server certificate; a failing openssl command
  // fails the test, with its output.
  TestCertificates() {
    dir_ = std::filesystem::temp_directory_path() /
           ("ccroute-certs-" + std::to_string(getpid()) + "-" +
            std::to_string(reinterpret_cast<uintptr_t>(this)));
    std::filesystem::create_directories(dir_ / "newcerts");
    MakeCa("ca", "ccroute test CA");
    MakeCa("other_ca", "some other CA");
    WriteText(dir_ / "server.ext",
              "subjectAltName=DNS:localhost,IP:127.0.0.1\n"
              "extendedKeyUsage=serverAuth\n");
    WriteText(dir_ / "client.ext", "extendedKeyUsage=clientAuth\n");
    Sign("server", "localhost", "ca", "server.ext");
    WriteText(dir_ / "index.txt", "");
    WriteText(dir_ / "serial", "1000\n");
    WriteText(dir_ / "ca.cnf",
              "[ ca ]\ndefault_ca = test_ca\n[ test_ca ]\n"
              "database = " +
                  (dir_ / "index.txt").string() + "\n" +
                  "new_certs_dir = " + (dir_ / "newcerts").string() + "\n" +
                  "certificate = " + (dir_ / "ca.pem").string() + "\n" +
                  "private_key = " + (dir_ / "ca.key").string() + "\n" +
                  "serial = " + (dir_ / "serial").string() + "\n" +
                  "default_md = sha256\npolicy = any\nunique_subject = no\n"
                  "[ any ]\ncommonName = supplied\n"
                  "[ client ]\nextendedKeyUsage = clientAuth\n");
  }
  ~TestCertificates() {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  // A client certificate `name`.pem / `name`.key with common name `cn`,
  // signed by the test CA (or by the other CA).
  void Client(const std::string& name, const std::string& cn,
              bool other_ca = false) {
    Sign(name, cn, other_ca ? "other_ca" : "ca", "client.ext");
  }
  // A client certificate valid from 2020-01-01 to 2020-01-02 only.
  void ExpiredClient(const std::string& name, const std::string& cn) {
    Run("req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
        " -keyout " +
        Path(name + ".key") + " -out " + Path(name + ".csr") +
        " -subj '/CN=" + cn + "'");
    Run("ca -batch -config " + Path("ca.cnf") + " -in " + Path(name + ".csr") +
        " -out " + Path(name + ".pem") +
        " -startdate 20200101000000Z -enddate 20200102000000Z"
        " -extensions client -notext");
  }

  std::string Pem(const std::string& file) const {
    return ReadText(dir_ / file);
  }
  std::string Path(const std::string& file) const {
    return (dir_ / file).string();
  }
  const std::filesystem::path& dir() const { return dir_; }
  // Every openssl command succeeded.
  bool ok() const { return ok_; }

 private:
  void Run(const std::string& args) {
    std::string log = Path("openssl.log");
    std::string command = "/usr/bin/openssl " + args + " >" + log + " 2>&1";
    int rc = std::system(command.c_str());
    EXPECT_EQ(rc, 0) << command << "\n" << ReadText(log);
    ok_ = ok_ && rc == 0;
  }
  void MakeCa(const std::string& name, const std::string& cn) {
    Run("req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
        " -keyout " +
        Path(name + ".key") + " -out " + Path(name + ".pem") +
        " -days 30 -subj '/CN=" + cn + "'");
  }
  void Sign(const std::string& name, const std::string& cn,
            const std::string& ca, const std::string& ext) {
    Run("req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
        " -keyout " +
        Path(name + ".key") + " -out " + Path(name + ".csr") +
        " -subj '/CN=" + cn + "'");
    Run("x509 -req -in " + Path(name + ".csr") + " -CA " + Path(ca + ".pem") +
        " -CAkey " + Path(ca + ".key") + " -CAcreateserial -out " +
        Path(name + ".pem") + " -days 30 -extfile " + Path(ext));
  }

  std::filesystem::path dir_;
  bool ok_ = true;
};

}  // namespace ccroute::testing

#endif  // CCROUTE_TESTS_SECURITY_CERTS_H_
