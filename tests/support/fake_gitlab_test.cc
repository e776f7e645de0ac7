#include "tests/support/fake_gitlab.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace gitlab_gateway::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Optional;
using ::testing::Pair;

const bool kCurlReady = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;

struct Result {
  CURLcode code = CURLE_OK;
  long status = 0;
  std::string body;
  std::string head;  // raw response head lines, as received
  absl::Duration elapsed;
};

struct Options {
  Options& Method(std::string m) {
    method = std::move(m);
    return *this;
  }
  Options& Header(std::string h) {
    headers.push_back(std::move(h));
    return *this;
  }
  Options& Body(std::string b) {
    body = std::move(b);
    return *this;
  }
  Options& Timeout(absl::Duration t) {
    timeout = t;
    return *this;
  }

  std::string method = "GET";
  std::vector<std::string> headers;
  std::optional<std::string> body;
  absl::Duration timeout = absl::Seconds(10);
};

// One libcurl easy handle: requests through the same Client reuse its
// keep-alive connection.
class Client {
 public:
  Client() : easy_(curl_easy_init()) {}
  ~Client() { curl_easy_cleanup(easy_); }

  Result Fetch(const std::string& url, const Options& options = {}) {
    Result result;
    curl_easy_reset(easy_);
    curl_easy_setopt(easy_, CURLOPT_URL, url.c_str());
    curl_easy_setopt(easy_, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(
        easy_, CURLOPT_TIMEOUT_MS,
        static_cast<long>(absl::ToInt64Milliseconds(options.timeout)));
    curl_easy_setopt(easy_, CURLOPT_WRITEFUNCTION, &Append);
    curl_easy_setopt(easy_, CURLOPT_WRITEDATA, &result.body);
    curl_easy_setopt(easy_, CURLOPT_HEADERFUNCTION, &Append);
    curl_easy_setopt(easy_, CURLOPT_HEADERDATA, &result.head);
    if (options.method == "HEAD") {
      curl_easy_setopt(easy_, CURLOPT_NOBODY, 1L);
    } else if (options.method != "GET") {
      curl_easy_setopt(easy_, CURLOPT_CUSTOMREQUEST, options.method.c_str());
    }
    if (options.body.has_value()) {
      curl_easy_setopt(easy_, CURLOPT_POSTFIELDS, options.body->data());
      curl_easy_setopt(easy_, CURLOPT_POSTFIELDSIZE,
                       static_cast<long>(options.body->size()));
    }
    curl_slist* headers = nullptr;
    for (const std::string& h : options.headers) {
      headers = curl_slist_append(headers, h.c_str());
    }
    curl_easy_setopt(easy_, CURLOPT_HTTPHEADER, headers);
    absl::Time start = absl::Now();
    result.code = curl_easy_perform(easy_);
    result.elapsed = absl::Now() - start;
    curl_easy_getinfo(easy_, CURLINFO_RESPONSE_CODE, &result.status);
    curl_slist_free_all(headers);
    return result;
  }

 private:
  static size_t Append(char* data, size_t size, size_t n, void* out) {
    static_cast<std::string*>(out)->append(data, size * n);
    return size * n;
  }

  CURL* easy_;
};

Result Fetch(const std::string& url, const Options& options = {}) {
  return Client().Fetch(url, options);
}

// A raw TCP connection for what libcurl will not do on request: pipelining,
// chunked uploads, HTTP/1.0, hundreds of idle connections.
class RawConnection {
 public:
  explicit RawConnection(int port) : fd_(socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in addr = {};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    connected_ =
        connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  }
  ~RawConnection() { Close(); }

  bool connected() const { return connected_; }
  // errno of the read that ended ReadUntil (0 for a clean EOF).
  int last_errno() const { return last_errno_; }
  bool Send(absl::string_view data) {
    return send(fd_, data.data(), data.size(), MSG_NOSIGNAL) ==
           static_cast<ssize_t>(data.size());
  }
  // Reads until `done(received)` holds, EOF, or `timeout`. `*eof` tells which.
  std::string ReadUntil(const std::function<bool(const std::string&)>& done,
                        bool* eof, absl::Duration timeout = absl::Seconds(5)) {
    std::string received;
    *eof = false;
    absl::Time deadline = absl::Now() + timeout;
    while (!done(received) && absl::Now() < deadline) {
      pollfd pfd = {fd_, POLLIN, 0};
      int ms =
          static_cast<int>(absl::ToInt64Milliseconds(deadline - absl::Now()));
      if (poll(&pfd, 1, std::max(ms, 1)) <= 0) continue;
      char chunk[4096];
      ssize_t n = read(fd_, chunk, sizeof(chunk));
      if (n <= 0) {
        last_errno_ = n < 0 ? errno : 0;
        *eof = true;
        break;
      }
      received.append(chunk, static_cast<size_t>(n));
    }
    return received;
  }
  std::string ReadToEof(bool* eof) {
    return ReadUntil([](const std::string&) { return false; }, eof);
  }
  void Close() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
  bool connected_ = false;
  int last_errno_ = 0;
};

std::function<bool(const std::string&)> Contains(std::string needle,
                                                 int times = 1) {
  return [needle, times](const std::string& s) {
    int found = 0;
    for (size_t pos = s.find(needle); pos != std::string::npos;
         pos = s.find(needle, pos + 1)) {
      ++found;
    }
    return found >= times;
  };
}

TEST(FakeGitLabTest, RecordsMethodTargetHeadersAndBody) {
  ASSERT_TRUE(kCurlReady);
  FakeGitLab fake;
  absl::Time before = absl::Now();
  Result result = Fetch(fake.base_url() + "/api/v4/projects/a%2Fb?x=1&y=%2B",
                        Options()
                            .Method("PUT")
                            .Header("PRIVATE-TOKEN: secret")
                            .Header("X-Dup: 1")
                            .Header("X-Dup: 2")
                            .Body("name=new"));
  ASSERT_EQ(result.code, CURLE_OK) << curl_easy_strerror(result.code);
  EXPECT_EQ(result.status, 200);
  EXPECT_EQ(result.body, R"({"ok":true})");
  EXPECT_THAT(result.head, HasSubstr("Content-Type: application/json\r\n"));
  EXPECT_THAT(result.head, HasSubstr("Content-Length: 11\r\n"));

  std::vector<RecordedRequest> requests = fake.requests();
  ASSERT_EQ(requests.size(), 1u);
  const RecordedRequest& req = requests[0];
  EXPECT_EQ(req.method, "PUT");
  EXPECT_EQ(req.target, "/api/v4/projects/a%2Fb?x=1&y=%2B");
  EXPECT_EQ(req.path, "/api/v4/projects/a%2Fb");
  EXPECT_EQ(req.query, "x=1&y=%2B");
  EXPECT_EQ(req.body, "name=new");
  EXPECT_THAT(req.Header("private-token"), Optional(std::string("secret")));
  EXPECT_THAT(req.Header("x-dup"), Optional(std::string("1")));
  EXPECT_EQ(req.Header("X-Missing"), std::nullopt);
  EXPECT_THAT(req.headers,
              ::testing::Contains(Pair("PRIVATE-TOKEN", "secret")));
  EXPECT_THAT(req.headers, ::testing::Contains(Pair("X-Dup", "2")));
  EXPECT_GT(req.connection_id, 0);
  EXPECT_GE(req.received_at, before);
  EXPECT_LE(req.received_at, absl::Now());
  EXPECT_EQ(fake.request_count(), 1u);
}

TEST(FakeGitLabTest, QueryIsEmptyWithoutQuestionMark) {
  FakeGitLab fake;
  ASSERT_EQ(Fetch(fake.base_url() + "/api/v4/user").code, CURLE_OK);
  ASSERT_EQ(fake.requests().size(), 1u);
  EXPECT_EQ(fake.requests()[0].path, "/api/v4/user");
  EXPECT_EQ(fake.requests()[0].query, "");
}

TEST(FakeGitLabTest, ScriptedRepliesComeFirstThenTheHandler) {
  FakeGitLab fake;
  fake.Enqueue(Reply::Text(201, "created"));
  fake.Enqueue(Reply::Json(404, R"({"message":"404 Not Found"})")
                   .WithHeader("X-Request-Id", "abc")
                   .WithHeader("X-Request-Id", "def"));
  fake.SetHandler([](const RecordedRequest& req) {
    return Reply::Text(202, "handled " + req.path);
  });
  Client client;
  Result first = client.Fetch(fake.base_url() + "/one");
  Result second = client.Fetch(fake.base_url() + "/two");
  Result third = client.Fetch(fake.base_url() + "/three");
  Result fourth = client.Fetch(fake.base_url() + "/four");
  EXPECT_EQ(first.status, 201);
  EXPECT_EQ(first.body, "created");
  EXPECT_THAT(first.head, HasSubstr("Content-Type: text/plain; charset=utf-8"));
  EXPECT_EQ(second.status, 404);
  EXPECT_EQ(second.body, R"({"message":"404 Not Found"})");
  EXPECT_THAT(second.head,
              HasSubstr("X-Request-Id: abc\r\nX-Request-Id: def\r\n"));
  EXPECT_EQ(third.status, 202);
  EXPECT_EQ(third.body, "handled /three");
  EXPECT_EQ(fourth.body, "handled /four");
}

TEST(FakeGitLabTest, KeepAliveReusesTheConnection) {
  FakeGitLab fake;
  Client client;
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(client.Fetch(fake.base_url() + "/x").code, CURLE_OK);
  }
  ASSERT_EQ(Fetch(fake.base_url() + "/other").code, CURLE_OK);
  std::vector<RecordedRequest> requests = fake.requests();
  ASSERT_EQ(requests.size(), 4u);
  EXPECT_EQ(requests[0].connection_id, requests[1].connection_id);
  EXPECT_EQ(requests[1].connection_id, requests[2].connection_id);
  EXPECT_NE(requests[3].connection_id, requests[0].connection_id);
  EXPECT_EQ(fake.connections_accepted(), 2);
  // The temporary client closed its connection; `client` still holds one.
  EXPECT_TRUE(fake.WaitForClosedByClient(1, absl::Seconds(5)));
  EXPECT_EQ(fake.open_connections(), 1);
}

TEST(FakeGitLabTest, HonoursConnectionClose) {
  FakeGitLab fake;
  Client client;
  Result closing = client.Fetch(fake.base_url() + "/a",
                                Options().Header("Connection: close"));
  ASSERT_EQ(closing.code, CURLE_OK);
  EXPECT_THAT(closing.head, HasSubstr("Connection: close\r\n"));
  ASSERT_EQ(client.Fetch(fake.base_url() + "/b").code, CURLE_OK);
  std::vector<RecordedRequest> requests = fake.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_NE(requests[0].connection_id, requests[1].connection_id);
  // The fake closed that one itself.
  EXPECT_EQ(fake.connections_closed_by_client(), 0);
}

TEST(FakeGitLabTest, ReplyConnectionCloseHeaderClosesAfterTheReply) {
  FakeGitLab fake;
  fake.Enqueue(Reply::Text(200, "bye").WithHeader("Connection", "close"));
  Client client;
  Result result = client.Fetch(fake.base_url() + "/a");
  ASSERT_EQ(result.code, CURLE_OK);
  EXPECT_EQ(result.body, "bye");
  ASSERT_EQ(client.Fetch(fake.base_url() + "/b").code, CURLE_OK);
  EXPECT_EQ(fake.connections_accepted(), 2);
}

TEST(FakeGitLabTest, Http10ClosesAfterTheReply) {
  FakeGitLab fake;
  RawConnection conn(fake.port());
  ASSERT_TRUE(conn.connected());
  ASSERT_TRUE(conn.Send("GET /old HTTP/1.0\r\n\r\n"));
  bool eof = false;
  std::string response = conn.ReadToEof(&eof);
  EXPECT_TRUE(eof);
  EXPECT_TRUE(absl::StartsWith(response, "HTTP/1.1 200 OK\r\n")) << response;
  EXPECT_TRUE(absl::EndsWith(response, "\r\n\r\n{\"ok\":true}")) << response;
}

TEST(FakeGitLabTest, HeadSendsContentLengthButNoBody) {
  FakeGitLab fake;
  fake.SetHandler([](const RecordedRequest&) {
    return Reply::Json(200, R"({"size":12345})");
  });
  Client client;
  Result head = client.Fetch(fake.base_url() + "/h", Options().Method("HEAD"));
  ASSERT_EQ(head.code, CURLE_OK);
  EXPECT_THAT(head.head, HasSubstr("Content-Length: 14\r\n"));
  EXPECT_EQ(head.body, "");
  // Stray body bytes would corrupt the next response on the same connection.
  Result get = client.Fetch(fake.base_url() + "/h");
  ASSERT_EQ(get.code, CURLE_OK);
  EXPECT_EQ(get.body, R"({"size":12345})");
  std::vector<RecordedRequest> requests = fake.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].method, "HEAD");
  EXPECT_EQ(requests[0].connection_id, requests[1].connection_id);
}

TEST(FakeGitLabTest, HeadResponseIsFollowedDirectlyByTheNextResponse) {
  FakeGitLab fake;
  fake.SetHandler([](const RecordedRequest&) {
    return Reply::Json(200, R"({"size":12345})");
  });
  RawConnection conn(fake.port());
  ASSERT_TRUE(conn.connected());
  // libcurl silently drops stray bytes read along with a HEAD response, so
  // check the exact bytes on the wire.
  ASSERT_TRUE(conn.Send(
      "HEAD /h HTTP/1.1\r\nHost: x\r\n\r\nGET /h HTTP/1.1\r\nHost: x\r\n\r\n"));
  bool eof = false;
  std::string response = conn.ReadUntil(Contains(R"({"size":12345})"), &eof);
  std::string head =
      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
      "Content-Length: 14\r\n\r\n";
  EXPECT_EQ(response, head + head + R"({"size":12345})");
}

TEST(FakeGitLabTest, ContentLengthFromTheReplyIsKept) {
  FakeGitLab fake;
  fake.Enqueue(Reply::Text(200, "abc").WithHeader("Content-Length", "3"));
  RawConnection conn(fake.port());
  ASSERT_TRUE(conn.connected());
  ASSERT_TRUE(conn.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  bool eof = false;
  std::string response = conn.ReadUntil(Contains("abc"), &eof);
  ASSERT_THAT(response, HasSubstr("Content-Length: 3\r\n"));
  EXPECT_EQ(response.find("Content-Length"), response.rfind("Content-Length"));
}

TEST(FakeGitLabTest, PipelinedRequestsAreAnsweredInOrder) {
  FakeGitLab fake;
  fake.SetHandler([](const RecordedRequest& req) {
    return Reply::Text(200, "<" + req.path + ">");
  });
  fake.Enqueue(Reply::Text(200, "<slow>").WithDelay(absl::Milliseconds(50)));
  RawConnection conn(fake.port());
  ASSERT_TRUE(
      conn.Send("GET /1 HTTP/1.1\r\nHost: x\r\n\r\n"
                "POST /2 HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nbody"
                "GET /3 HTTP/1.1\r\nHost: x\r\n\r\n"));
  bool eof = false;
  std::string response = conn.ReadUntil(Contains("HTTP/1.1 200", 3), &eof);
  size_t slow = response.find("<slow>");
  size_t two = response.find("</2>");
  size_t three = response.find("</3>");
  ASSERT_NE(three, std::string::npos) << response;
  EXPECT_LT(slow, two);
  EXPECT_LT(two, three);
  ASSERT_EQ(fake.request_count(), 3u);
  EXPECT_EQ(fake.requests()[1].body, "body");
}

TEST(FakeGitLabTest, ChunkedRequestBodyGets411) {
  FakeGitLab fake;
  RawConnection conn(fake.port());
  ASSERT_TRUE(conn.Send(
      "POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
      "3\r\nabc\r\n0\r\n\r\n"));
  bool eof = false;
  std::string response = conn.ReadToEof(&eof);
  EXPECT_TRUE(absl::StartsWith(response, "HTTP/1.1 411 ")) << response;
  EXPECT_TRUE(eof);
  EXPECT_EQ(fake.request_count(), 0u);
}

TEST(FakeGitLabTest, MalformedRequestGets400) {
  FakeGitLab fake;
  RawConnection conn(fake.port());
  ASSERT_TRUE(conn.Send("NOT A REQUEST AT ALL\r\n\r\n"));
  bool eof = false;
  std::string response = conn.ReadToEof(&eof);
  EXPECT_TRUE(absl::StartsWith(response, "HTTP/1.1 400 ")) << response;
  EXPECT_TRUE(eof);
}

TEST(FakeGitLabTest, ExpectContinueIsAnswered) {
  FakeGitLab fake;
  Client client;
  std::string body(4096, 'x');
  Result result = client.Fetch(
      fake.base_url() + "/upload",
      Options().Method("POST").Header("Expect: 100-continue").Body(body));
  ASSERT_EQ(result.code, CURLE_OK);
  // libcurl waits a full second for the 100 before sending anyway.
  EXPECT_LT(result.elapsed, absl::Milliseconds(900));
  ASSERT_EQ(fake.request_count(), 1u);
  EXPECT_EQ(fake.requests()[0].body, body);
}

TEST(FakeGitLabTest, DelayHoldsTheReply) {
  FakeGitLab fake;
  fake.Enqueue(Reply::Text(200, "late").WithDelay(absl::Milliseconds(200)));
  Result result = Fetch(fake.base_url() + "/d");
  ASSERT_EQ(result.code, CURLE_OK);
  EXPECT_EQ(result.body, "late");
  EXPECT_GE(result.elapsed, absl::Milliseconds(200));
}

TEST(FakeGitLabTest, ClientCloseDuringDelayIsSeenPromptly) {
  FakeGitLab fake;
  fake.Enqueue(Reply::Text(200, "never").WithDelay(absl::Seconds(30)));
  Result result =
      Fetch(fake.base_url() + "/d", Options().Timeout(absl::Milliseconds(100)));
  absl::Time client_gone = absl::Now();
  EXPECT_EQ(result.code, CURLE_OPERATION_TIMEDOUT);
  ASSERT_TRUE(fake.WaitForClosedByClient(1, absl::Seconds(5)));
  EXPECT_LT(absl::Now() - client_gone, absl::Seconds(3));  // not the 30 s
  EXPECT_EQ(fake.in_progress(), 0);
  EXPECT_EQ(fake.open_connections(), 0);
}

TEST(FakeGitLabTest, ResetGivesTheClientAnError) {
  FakeGitLab fake;
  fake.Enqueue(Reply::Do(Reply::Action::kReset));
  Result result = Fetch(fake.base_url() + "/r");
  EXPECT_THAT(result.code, ::testing::AnyOf(CURLE_RECV_ERROR, CURLE_GOT_NOTHING,
                                            CURLE_SEND_ERROR));
  EXPECT_EQ(fake.request_count(), 1u);
  EXPECT_EQ(fake.connections_closed_by_client(), 0);
}

TEST(FakeGitLabTest, ResetIsAnRstNotAFin) {
  FakeGitLab fake;
  fake.Enqueue(Reply::Do(Reply::Action::kReset));
  RawConnection conn(fake.port());
  ASSERT_TRUE(conn.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(fake.WaitForRequests(1, absl::Seconds(5)));
  bool eof = false;
  EXPECT_EQ(conn.ReadToEof(&eof), "");
  EXPECT_TRUE(eof);
  EXPECT_EQ(conn.last_errno(), ECONNRESET);
}

TEST(FakeGitLabTest, CloseGivesAnEmptyReply) {
  FakeGitLab fake;
  fake.Enqueue(Reply::Do(Reply::Action::kClose));
  Result result = Fetch(fake.base_url() + "/c");
  EXPECT_EQ(result.code, CURLE_GOT_NOTHING);
  RawConnection conn(fake.port());
  fake.Enqueue(Reply::Do(Reply::Action::kClose));
  ASSERT_TRUE(conn.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  bool eof = false;
  EXPECT_EQ(conn.ReadToEof(&eof), "");
  EXPECT_TRUE(eof);
  EXPECT_EQ(conn.last_errno(), 0);  // a FIN, not an RST
  EXPECT_EQ(fake.connections_closed_by_client(), 0);
}

TEST(FakeGitLabTest, StallUntilTheClientGivesUp) {
  FakeGitLab fake;
  fake.Enqueue(Reply::Do(Reply::Action::kStall));
  Result result =
      Fetch(fake.base_url() + "/s", Options().Timeout(absl::Milliseconds(200)));
  absl::Time client_gone = absl::Now();
  EXPECT_EQ(result.code, CURLE_OPERATION_TIMEDOUT);
  EXPECT_GE(result.elapsed, absl::Milliseconds(200));
  ASSERT_TRUE(fake.WaitForClosedByClient(1, absl::Seconds(5)));
  EXPECT_LT(absl::Now() - client_gone, absl::Seconds(3));  // not the 30 s
  EXPECT_EQ(fake.in_progress(), 0);
  EXPECT_EQ(fake.max_in_progress(), 1);
}

TEST(FakeGitLabTest, DripDeliversTheWholeBodySlowly) {
  FakeGitLab fake;
  Reply drip = Reply::Text(200, "0123456789");
  drip.action = Reply::Action::kDrip;
  drip.drip_interval = absl::Milliseconds(20);
  fake.Enqueue(drip);
  Client client;
  Result result = client.Fetch(fake.base_url() + "/drip");
  ASSERT_EQ(result.code, CURLE_OK);
  EXPECT_EQ(result.body, "0123456789");
  EXPECT_THAT(result.head, HasSubstr("Content-Length: 10\r\n"));
  EXPECT_GE(result.elapsed, absl::Milliseconds(180));
  // The connection stays usable.
  ASSERT_EQ(client.Fetch(fake.base_url() + "/next").code, CURLE_OK);
  EXPECT_EQ(fake.connections_accepted(), 1);
}

TEST(FakeGitLabTest, ClientTimeoutDuringDripIsSeen) {
  FakeGitLab fake;
  Reply drip = Reply::Text(200, std::string(1000, 'x'));
  drip.action = Reply::Action::kDrip;
  drip.drip_interval = absl::Milliseconds(20);
  fake.Enqueue(drip);
  // 1 s: some bytes surely arrive (every 20 ms), the whole 20 s never does.
  Result result = Fetch(fake.base_url() + "/drip",
                        Options().Timeout(absl::Seconds(1)));
  EXPECT_EQ(result.code, CURLE_OPERATION_TIMEDOUT);
  EXPECT_FALSE(result.body.empty());
  EXPECT_LT(result.body.size(), 1000u);
  EXPECT_TRUE(fake.WaitForClosedByClient(1, absl::Seconds(5)));
}

TEST(FakeGitLabTest, TruncateGivesTheClientAnError) {
  FakeGitLab fake;
  Reply truncated = Reply::Json(200, R"({"partial":)");
  truncated.action = Reply::Action::kTruncate;
  fake.Enqueue(truncated);
  Result result = Fetch(fake.base_url() + "/t");
  EXPECT_EQ(result.code, CURLE_PARTIAL_FILE);
  EXPECT_EQ(result.body, R"({"partial":)");
}

TEST(FakeGitLabTest, DestructorReturnsPromptlyWithBusyConnections) {
  auto fake = std::make_unique<FakeGitLab>();
  Reply drip = Reply::Text(200, "slow");
  drip.action = Reply::Action::kDrip;
  drip.drip_interval = absl::Seconds(30);
  fake->Enqueue(Reply::Do(Reply::Action::kStall));
  fake->Enqueue(Reply::Text(200, "late").WithDelay(absl::Seconds(30)));
  fake->Enqueue(drip);
  std::string url = fake->base_url();
  std::vector<Result> results(3);
  std::vector<std::thread> clients;
  for (size_t i = 0; i < 3; ++i) {
    clients.emplace_back([&, i] { results[i] = Fetch(url); });
  }
  ASSERT_TRUE(fake->WaitForRequests(3, absl::Seconds(5)));
  // Plus an idle keep-alive connection with no request at all.
  RawConnection idle(fake->port());
  ASSERT_TRUE(idle.connected());
  absl::Time start = absl::Now();
  fake.reset();
  EXPECT_LT(absl::Now() - start, absl::Seconds(3));  // not a hang
  for (std::thread& t : clients) t.join();
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_NE(results[i].code, CURLE_OK) << i;
    EXPECT_LT(results[i].elapsed, absl::Seconds(5)) << i;
  }
}

TEST(FakeGitLabTest, MaxInProgressCountsConcurrentRequests) {
  FakeGitLab fake;
  absl::Notification release;
  fake.SetHandler([&release](const RecordedRequest&) {
    release.WaitForNotificationWithTimeout(absl::Seconds(10));
    return Reply::Text(200, "done");
  });
  constexpr int kClients = 8;
  std::vector<std::thread> clients;
  std::vector<Result> results(kClients);
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back(
        [&, i] { results[i] = Fetch(fake.base_url() + "/p"); });
  }
  ASSERT_TRUE(fake.WaitForRequests(kClients, absl::Seconds(5)));
  EXPECT_EQ(fake.in_progress(), kClients);
  EXPECT_EQ(fake.open_connections(), kClients);
  release.Notify();
  for (std::thread& t : clients) t.join();
  for (const Result& r : results) EXPECT_EQ(r.body, "done");
  EXPECT_EQ(fake.in_progress(), 0);
  EXPECT_EQ(fake.max_in_progress(), kClients);

  fake.ClearRecords();
  EXPECT_EQ(fake.request_count(), 0u);
  EXPECT_EQ(fake.max_in_progress(), 0);
  ASSERT_EQ(Fetch(fake.base_url() + "/q").code, CURLE_OK);
  EXPECT_EQ(fake.max_in_progress(), 1);
  ASSERT_EQ(fake.requests().size(), 1u);
  EXPECT_EQ(fake.requests()[0].path, "/q");
}

TEST(FakeGitLabTest, WaitForRequestsTimesOut) {
  FakeGitLab fake;
  absl::Time start = absl::Now();
  EXPECT_FALSE(fake.WaitForRequests(1, absl::Milliseconds(50)));
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(50));
  EXPECT_FALSE(fake.WaitForClosedByClient(1, absl::Milliseconds(10)));
}

TEST(FakeGitLabTest, ManyConnectionsAtOnce) {
  FakeGitLab fake;
  constexpr int kConnections = 300;
  std::vector<std::unique_ptr<RawConnection>> conns;
  for (int i = 0; i < kConnections; ++i) {
    conns.push_back(std::make_unique<RawConnection>(fake.port()));
    ASSERT_TRUE(conns.back()->connected());
    ASSERT_TRUE(conns.back()->Send("GET /many HTTP/1.1\r\nHost: x\r\n\r\n"));
  }
  for (auto& conn : conns) {
    bool eof = false;
    EXPECT_THAT(conn->ReadUntil(Contains("{\"ok\":true}"), &eof),
                HasSubstr("{\"ok\":true}"));
  }
  EXPECT_EQ(fake.open_connections(), kConnections);
  conns.clear();
  EXPECT_TRUE(fake.WaitForClosedByClient(kConnections, absl::Seconds(10)));
  EXPECT_EQ(fake.open_connections(), 0);
}

TEST(FakeGitLabTest, ThousandsOfKeepAliveRequestsAreFast) {
  FakeGitLab fake;
  constexpr int kThreads = 4;
  constexpr int kPerThread = 1000;
  absl::Time start = absl::Now();
  std::vector<std::thread> threads;
  std::vector<int> ok(kThreads, 0);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      Client client;
      for (int i = 0; i < kPerThread; ++i) {
        Result r = client.Fetch(fake.base_url() + "/fast");
        if (r.code == CURLE_OK && r.status == 200) ++ok[t];
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(ok[t], kPerThread);
  EXPECT_EQ(fake.request_count(), size_t{kThreads * kPerThread});
  EXPECT_EQ(fake.connections_accepted(), kThreads);
  EXPECT_LT(absl::Now() - start, absl::Seconds(20));
}

TEST(FakeGitLabTest, ConnectionChurnIsReaped) {
  FakeGitLab fake;
  for (int i = 0; i < 500; ++i) {
    ASSERT_EQ(Fetch(fake.base_url() + "/churn").code, CURLE_OK);
  }
  EXPECT_EQ(fake.connections_accepted(), 500);
  EXPECT_TRUE(fake.WaitForClosedByClient(500, absl::Seconds(10)));
}

}  // namespace
}  // namespace gitlab_gateway::testing
