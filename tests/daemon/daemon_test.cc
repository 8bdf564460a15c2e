// Daemon::Start in-process: it serves what the config says, and refuses to
// start, with one line saying why, on each thing that is wrong.
#include "keiretsu/daemon/daemon.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "firm_dir.h"
#include "keiretsu/v1/api.grpc.pb.h"

namespace keiretsu::daemon {
namespace {

class DaemonTest : public ::testing::Test {
 protected:
  testing::TestNetwork net = testing::MakeNetwork(3);

  Result<std::unique_ptr<Daemon>> Start(const FirmDir& f) {
    KEIRETSU_ASSIGN_OR_RETURN(Config c, LoadConfig(f.config()));
    return Daemon::Start(c, "test");
  }
  // Starts and expects a refusal whose message contains `text`.
  void ExpectRefused(const FirmDir& f, Code code, const std::string& text) {
    auto d = Start(f);
    ASSERT_FALSE(d.ok());
    EXPECT_EQ(d.status().code(), code) << d.status().ToString();
    EXPECT_NE(d.status().message().find(text), std::string::npos) << d.status().ToString();
    EXPECT_EQ(d.status().message().find('\n'), std::string::npos);
  }
};

TEST_F(DaemonTest, ServesTheApiAndKeepsDataAcrossRestarts) {
  FirmDir f(net, 1);
  std::string first_address;
  {
    auto d = Start(f);
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    first_address = (*d)->api_address();
    EXPECT_EQ(first_address.rfind("127.0.0.1:", 0), 0u);
    EXPECT_NE(first_address, "127.0.0.1:0");
    auto stub =
        v1::Ledger::NewStub(grpc::CreateChannel(first_address, grpc::InsecureChannelCredentials()));
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", std::string("Bearer ") + kOperatorToken);
    v1::RecordObligationRequest req;
    req.set_creditor("firm2");
    req.set_amount(12);
    req.set_unit("hours");
    v1::WriteResponse resp;
    auto s = stub->RecordObligation(&ctx, req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(resp.entry().author_name(), "firm1");
    (*d)->Stop(std::chrono::seconds(1));
    (*d)->Stop(std::chrono::seconds(1));  // idempotent
  }
  auto again = Start(f);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ((*again)->ledger().Feed(net.pk(1)).head_seq, 1u);
  EXPECT_EQ(protocol::AmountToString(*(*again)->ledger().GetBalance(net.pk(2), net.pk(1), "hours")),
            "12");
}

TEST_F(DaemonTest, RefusesAKeyTheGenesisDoesNotList) {
  auto stranger = testing::MakeNetwork(5);  // firm4's key is not in `net`
  FirmDir f(stranger, 4);
  WriteText(f.dir.Sub("genesis.toml"), net.genesis.ToToml());
  ExpectRefused(f, Code::kFailedPrecondition,
                "holds public key " + stranger.pk(4).Hex() + ", which genesis file " +
                    f.dir.Sub("genesis.toml") + " does not list as a member");
}

TEST_F(DaemonTest, RefusesMissingOrExposedKeys) {
  FirmDir f(net, 0);
  ASSERT_EQ(::chmod(f.key().c_str(), 0644), 0);
  ExpectRefused(f, Code::kPermissionDenied, "key file " + f.key() + " has mode 0644");
  ASSERT_EQ(::unlink(f.key().c_str()), 0);
  ExpectRefused(f, Code::kNotFound, f.key());
  EXPECT_FALSE(std::filesystem::exists(f.data())) << "nothing opened before the refusal";
}

TEST_F(DaemonTest, RefusesFirmsThatAreNotMembers) {
  FirmDir partner(net, 0,
                  "[[api.tokens]]\ntoken = \"partner-token-0000000\"\nrole = \"partner\"\n"
                  "firm = \"kobe\"\n");
  ExpectRefused(partner, Code::kInvalidArgument,
                partner.config() +
                    ": api.tokens[1].firm: unknown firm 'kobe': not a member of network "
                    "test-keiretsu");
  FirmDir peer(net, 0, "[[peer.peers]]\nfirm = \"nagoya\"\naddress = \"n:1\"\n");
  ExpectRefused(peer, Code::kInvalidArgument, "peer.peers[0].firm: unknown firm 'nagoya'");
  FirmDir self(net, 0, "[[peer.peers]]\nfirm = \"firm0\"\naddress = \"n:1\"\n");
  ExpectRefused(self, Code::kInvalidArgument, "peer.peers[0].firm: names this node's own firm");
  FirmDir twice(net, 0,
                "[[peer.peers]]\nfirm = \"firm1\"\naddress = \"a:1\"\n"
                "[[peer.peers]]\nfirm = \"" +
                    net.pk(1).Hex() + "\"\naddress = \"b:1\"\n");
  ExpectRefused(twice, Code::kInvalidArgument, "peer.peers[1].firm: names a firm listed");
}

TEST_F(DaemonTest, RefusesUnreadableTlsFiles) {
  FirmDir f(net, 0);
  f.WriteConfig("tls_cert = \"nope.crt\"\ntls_key = \"nope.key\"\n");  // inside [[api.tokens]]
  ExpectRefused(f, Code::kInvalidArgument, "api.tokens[0].tls_cert: unknown key");
  std::string cfg =
      "data_dir = \"data\"\nkey_file = \"firm.key\"\ngenesis_file = \"genesis.toml\"\n"
      "[api]\nlisten = \"127.0.0.1:0\"\ntls_cert = \"nope.crt\"\ntls_key = \"nope.key\"\n";
  WriteText(f.config(), cfg);
  ExpectRefused(f, Code::kInvalidArgument, ": api.tls_cert: cannot read " + f.dir.Sub("nope.crt"));
}

TEST_F(DaemonTest, RefusesADataDirectoryInUseOrOfAnotherNetwork) {
  FirmDir f(net, 0);
  auto first = Start(f);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ExpectRefused(f, Code::kFailedPrecondition, "locked by another process");
  (*first)->Stop(std::chrono::seconds(1));

  auto other = testing::MakeNetwork(3, "other-keiretsu");
  WriteText(f.dir.Sub("genesis.toml"), other.genesis.ToToml());
  ExpectRefused(f, Code::kFailedPrecondition, "belongs to network " + net.id().Short());
}

TEST_F(DaemonTest, RefusesAnAddressInUse) {
  FirmDir a(net, 0);
  auto first = Start(a);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  FirmDir b(net, 1);
  std::string cfg =
      "data_dir = \"data\"\nkey_file = \"firm.key\"\ngenesis_file = \"genesis.toml\"\n"
      "[api]\nlisten = \"" +
      (*first)->api_address() + "\"\n";
  WriteText(b.config(), cfg);
  ExpectRefused(b, Code::kUnavailable, "cannot listen on " + (*first)->api_address());
}

}  // namespace
}  // namespace keiretsu::daemon
