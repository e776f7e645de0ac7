#include "tests/support/test_certs.h"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/str_cat.h"

namespace gitlab_gateway::testing {
namespace {

constexpr char kNewKey[] =
    "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";

// Runs one openssl command line in `dir`; its output goes to openssl.log,
// quoted in the error when it fails.
absl::Status OpenSsl(const std::string& dir, const std::string& args) {
  const std::string log = dir + "/openssl.log";
  const std::string command =
      absl::StrCat("openssl ", args, " >", log, " 2>&1");
  if (std::system(command.c_str()) != 0) {
    return absl::InternalError(
        absl::StrCat("openssl ", args, ": ", ReadWholeFile(log)));
  }
  return absl::OkStatus();
}

}  // namespace

std::string ReadWholeFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

absl::StatusOr<CertFiles> MakeSelfSigned(const std::string& dir,
                                         const std::string& name,
                                         const std::string& cn,
                                         const std::string& san) {
  CertFiles files{absl::StrCat(dir, "/", name, ".pem"),
                  absl::StrCat(dir, "/", name, ".key")};
  std::string args =
      absl::StrCat("req -x509 ", kNewKey, " -days 2 -subj /CN=", cn,
                   " -keyout ", files.key, " -out ", files.cert);
  if (!san.empty()) absl::StrAppend(&args, " -addext subjectAltName=", san);
  if (absl::Status s = OpenSsl(dir, args); !s.ok()) return s;
  return files;
}

absl::StatusOr<TestCa> TestCa::Create(const std::string& dir,
                                      const std::string& name) {
  CertFiles files{absl::StrCat(dir, "/", name, ".pem"),
                  absl::StrCat(dir, "/", name, ".key")};
  absl::Status s = OpenSsl(
      dir, absl::StrCat("req -x509 ", kNewKey, " -days 2 -subj /CN=", name,
                        " -addext basicConstraints=critical,CA:TRUE",
                        " -addext keyUsage=critical,keyCertSign,cRLSign",
                        " -keyout ", files.key, " -out ", files.cert));
  if (!s.ok()) return s;
  return TestCa(dir, std::move(files));
}

absl::StatusOr<CertFiles> TestCa::Issue(const std::string& name,
                                        const std::string& cn,
                                        const std::string& san) const {
  CertFiles files{absl::StrCat(dir_, "/", name, ".pem"),
                  absl::StrCat(dir_, "/", name, ".key")};
  const std::string csr = absl::StrCat(dir_, "/", name, ".csr");
  const std::string ext = absl::StrCat(dir_, "/", name, ".ext");
  {
    std::ofstream out(ext);
    out << "basicConstraints=CA:FALSE\n"
           "keyUsage=critical,digitalSignature\n"
           "extendedKeyUsage=serverAuth,clientAuth\n";
    if (!san.empty()) out << "subjectAltName=" << san << "\n";
  }
  absl::Status s =
      OpenSsl(dir_, absl::StrCat("req -new ", kNewKey, " -subj /CN=", cn,
                                 " -keyout ", files.key, " -out ", csr));
  if (!s.ok()) return s;
  s = OpenSsl(dir_, absl::StrCat("x509 -req -in ", csr, " -CA ", files_.cert,
                                 " -CAkey ", files_.key,
                                 " -CAcreateserial -days 2 -extfile ", ext,
                                 " -out ", files.cert));
  if (!s.ok()) return s;
  return files;
}

}  // namespace gitlab_gateway::testing
