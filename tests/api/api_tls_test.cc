// TLS and mutual TLS, with certificates the test makes with the openssl
// command line (a CA, a server certificate for localhost, client
// certificates from that CA and from a stranger CA).
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "api_fixture.h"

namespace keiretsu::api {
namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Runs a shell command in `dir`; fails the test (not skips) when it fails.
void Sh(const std::string& dir, const std::string& cmd) {
  std::string full = "cd '" + dir + "' && " + cmd + " >/dev/null 2>&1";
  ASSERT_EQ(std::system(full.c_str()), 0) << "failed (is openssl installed?): " << cmd;
}

class ApiTlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    certs_ = new testing::TempDir();
    const std::string& d = certs_->path();
    const std::string ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    Sh(d, "openssl req -x509 " + ec + " -keyout ca.key -out ca.crt -days 2 -subj /CN=test-ca");
    Sh(d, "openssl req -x509 " + ec +
              " -keyout other-ca.key -out other-ca.crt -days 2 -subj /CN=stranger-ca");
    Sh(d, "printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' > server.ext");
    Sh(d, "printf 'extendedKeyUsage=clientAuth\\n' > client.ext");
    Sh(d, "openssl req " + ec + " -keyout server.key -out server.csr -subj /CN=localhost");
    Sh(d,
       "openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial "
       "-out server.crt -days 2 -extfile server.ext");
    for (std::string ca : {"ca", "other-ca"}) {
      std::string who = ca == "ca" ? "client" : "stranger";
      Sh(d, "openssl req " + ec + " -keyout " + who + ".key -out " + who + ".csr -subj /CN=" + who);
      Sh(d, "openssl x509 -req -in " + who + ".csr -CA " + ca + ".crt -CAkey " + ca +
                ".key -CAcreateserial -out " + who + ".crt -days 2 -extfile client.ext");
    }
  }
  static void TearDownTestSuite() {
    delete certs_;
    certs_ = nullptr;
  }
  static std::string Pem(const std::string& name) { return ReadAll(certs_->Sub(name)); }

  std::unique_ptr<TestNode> Serve(bool mutual) {
    ApiServerOptions opts;
    opts.tls = TlsOptions{Pem("server.crt"), Pem("server.key"), mutual ? Pem("ca.crt") : ""};
    return std::make_unique<TestNode>(net, 0, opts);
  }
  // GetStatus over TLS trusting our CA, presenting `client` ("" for none).
  grpc::Status Call(const TestNode& n, const std::string& client) {
    grpc::SslCredentialsOptions o;
    o.pem_root_certs = Pem("ca.crt");
    if (!client.empty()) {
      o.pem_cert_chain = Pem(client + ".crt");
      o.pem_private_key = Pem(client + ".key");
    }
    grpc::ChannelArguments args;
    args.SetSslTargetNameOverride("localhost");
    auto stub = v1::Ledger::NewStub(
        grpc::CreateCustomChannel(n.server->address(), grpc::SslCredentials(o), args));
    v1::GetStatusResponse r;
    return stub->GetStatus(Ctx(kOperatorToken, std::chrono::seconds(10)).get(), {}, &r);
  }
  grpc::Status CallInsecure(const TestNode& n) {
    auto stub = v1::Ledger::NewStub(
        grpc::CreateChannel(n.server->address(), grpc::InsecureChannelCredentials()));
    v1::GetStatusResponse r;
    return stub->GetStatus(Ctx(kOperatorToken, std::chrono::seconds(10)).get(), {}, &r);
  }

  static testing::TempDir* certs_;
  testing::TestNetwork net = testing::MakeNetwork(3);
};
testing::TempDir* ApiTlsTest::certs_ = nullptr;

TEST_F(ApiTlsTest, ServerTls) {
  auto n = Serve(/*mutual=*/false);
  auto s = Call(*n, "");
  EXPECT_TRUE(s.ok()) << Describe(s);
  EXPECT_EQ(CallInsecure(*n).error_code(), grpc::StatusCode::UNAVAILABLE);
  // TLS does not replace the token.
  grpc::SslCredentialsOptions o;
  o.pem_root_certs = Pem("ca.crt");
  grpc::ChannelArguments args;
  args.SetSslTargetNameOverride("localhost");
  auto stub = v1::Ledger::NewStub(
      grpc::CreateCustomChannel(n->server->address(), grpc::SslCredentials(o), args));
  v1::GetStatusResponse r;
  EXPECT_EQ(stub->GetStatus(Ctx("").get(), {}, &r).error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(ApiTlsTest, MutualTlsNeedsAClientCertificateFromTheCa) {
  auto n = Serve(/*mutual=*/true);
  auto s = Call(*n, "client");
  EXPECT_TRUE(s.ok()) << Describe(s);
  EXPECT_EQ(Call(*n, "").error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(Call(*n, "stranger").error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(CallInsecure(*n).error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(ApiTlsTest, MaterialThatIsNotPemIsRefusedAtStart) {
  testing::TempDir dir;
  auto ledger = testing::OpenLedger(net, dir.Sub("db"));
  ApiServerOptions opts;
  opts.tls = TlsOptions{"/etc/keiretsu/server.crt", Pem("server.key"), ""};
  auto s = ApiServer::Start(*ledger, net.key(0), std::make_shared<WatchHub>(), nullptr, opts);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(s.status().message(), "TLS certificate is not PEM");
}

}  // namespace
}  // namespace keiretsu::api
