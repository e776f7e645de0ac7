#include "client/cli/commands.h"

#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <iostream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "client/cli/json_pretty.h"
#include "client/cli/transfer_commands.h"
#include "gitlab_gateway/client/client.h"
#include "grpc/health/v1/health.grpc.pb.h"

namespace gitlab_gateway::cli {

namespace v1 = ::gitlab::gateway::v1;
namespace {

using client::Client;
using client::ClientOptions;
using client::DecodeError;

// Added to --timeout for the RPC deadline, so the gateway's own timeout
// error (with its details) arrives before the RPC gives up.
constexpr absl::Duration kDeadlineMargin = absl::Seconds(5);
constexpr absl::Duration kCallDeadline = absl::Seconds(65);
constexpr absl::Duration kStreamDeadline = absl::Hours(1);

void ToProto(absl::Duration d, google::protobuf::Duration* out) {
  int64_t seconds = absl::IDivDuration(d, absl::Seconds(1), &d);
  out->set_seconds(seconds);
  out->set_nanos(static_cast<int32_t>(absl::ToInt64Nanoseconds(d)));
}

// Plaintext, or TLS from --tls / --ca-file / --cert / --key.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> ChannelCredentials(
    const CliArgs& args) {
  if (!args.tls) return grpc::InsecureChannelCredentials();
  return client::TlsCredentials(
      client::TlsFiles{args.ca_file, args.cert_file, args.key_file});
}

}  // namespace

// One call: --deadline, else --timeout plus the margin. A stream (batch,
// paginate): --deadline, else an hour; --timeout bounds each item instead.
absl::StatusOr<Client> MakeClient(const CliArgs& args, bool stream) {
  ClientOptions options;
  if (args.deadline) {
    options.default_timeout = *args.deadline;
  } else if (stream) {
    options.default_timeout = kStreamDeadline;
  } else {
    options.default_timeout =
        args.timeout ? *args.timeout + kDeadlineMargin : kCallDeadline;
  }
  options.caller_token = args.caller_token;
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
      ChannelCredentials(args);
  if (!credentials.ok()) return credentials.status();
  return Client(grpc::CreateChannel(args.target, *std::move(credentials)),
                std::move(options));
}

int Fail(const absl::Status& status, std::ostream& err) {
  err << "error: " << DecodeError(status).ToString();
  return kExitFailed;
}

// A file of --ca-file, --cert or --key that cannot be used: bad input.
int BadSetup(const absl::Status& status, std::ostream& err) {
  err << "gitlab-gateway-cli: " << status.message() << "\n";
  return kExitUsage;
}

// A 404 for /projects/<name>/... where <name> is neither an id nor encoded:
// GitLab reads "group/demo" as project "group" and a sub-resource "demo".
int FailWithPathHint(const absl::Status& status, const CliArgs& args,
                     std::ostream& err) {
  int code = Fail(status, err);
  absl::string_view path = args.path;
  if (status.code() != absl::StatusCode::kNotFound ||
      !absl::ConsumePrefix(&path, "/projects/")) {
    return code;
  }
  absl::string_view id = path.substr(0, path.find('/'));
  bool numeric = !id.empty() && std::all_of(id.begin(), id.end(), [](char c) {
    return absl::ascii_isdigit(c);
  });
  if (numeric || absl::StrContains(id, '%') || id.size() == path.size()) {
    return code;
  }
  size_t second = path.find('/', id.size() + 1);
  std::string guess(path.substr(0, second));
  err << "hint: GitLab names a project by its id or by its full path with "
         "each \"/\" as %2F: /projects/"
      << absl::StrReplaceAll(guess, {{"/", "%2F"}})
      << (second == absl::string_view::npos ? "" : path.substr(second))
      << " (or: --project " << guess << ")\n";
  return code;
}

namespace {

std::string ContentType(const v1::Response& response) {
  for (const v1::Header& h : response.headers()) {
    if (absl::EqualsIgnoreCase(h.name(), "content-type")) return h.value();
  }
  return "";
}

// The body, pretty when it is JSON and --raw was not given.
void PrintBody(const v1::Response& response, const CliArgs& args,
               std::ostream& out) {
  if (response.body_case() == v1::Response::kContent) {
    out << response.content();
    return;
  }
  const std::string& text = response.text();
  if (text.empty()) return;
  if (!args.raw) {
    std::string type = absl::AsciiStrToLower(ContentType(response));
    bool jsonish = type.empty() || absl::StrContains(type, "json");
    if (std::optional<std::string> pretty;
        jsonish && (pretty = PrettyJson(text))) {
      out << *pretty << "\n";
      return;
    }
  }
  out << text;
  if (text.back() != '\n') out << "\n";
}

}  // namespace

void PrintResponse(const v1::Response& response, const CliArgs& args,
                   std::ostream& out) {
  if (args.json) {
    std::string line;
    google::protobuf::util::MessageToJsonString(response, &line);
    out << line << "\n";
    return;
  }
  if (args.include || args.command == "head") {
    out << "HTTP " << response.status_code() << "\n";
    for (const v1::Header& h : response.headers()) {
      out << h.name() << ": " << h.value() << "\n";
    }
    out << "\n";
  }
  PrintBody(response, args, out);
}

namespace {

int RunCall(const CliArgs& args, Io io) {
  absl::StatusOr<Client> made = MakeClient(args, /*stream=*/false);
  if (!made.ok()) return BadSetup(made.status(), io.err);
  const Client& client = *made;
  absl::StatusOr<v1::Response> response = client.Execute(BuildRequest(args));
  if (!response.ok()) return FailWithPathHint(response.status(), args, io.err);
  PrintResponse(*response, args, io.out);
  return kExitOk;
}

int RunPaginate(const CliArgs& args, Io io) {
  absl::StatusOr<Client> made = MakeClient(args, /*stream=*/true);
  if (!made.ok()) return BadSetup(made.status(), io.err);
  const Client& client = *made;
  v1::PaginateRequest request;
  *request.mutable_request() = BuildRequest(args);
  request.set_max_pages(args.max_pages);
  request.set_max_items(args.max_items);
  client::PageStream pages = client.Paginate(request);
  for (const v1::Response& page : pages) {
    if (args.items) {
      std::optional<std::vector<std::string>> items =
          JsonArrayItems(page.text());
      if (!items) {
        io.err << "error: --items: page " << page.page().page()
               << " is not a JSON array\n";
        return kExitFailed;
      }
      for (const std::string& item : *items) io.out << item << "\n";
    } else {
      PrintResponse(page, args, io.out);
    }
    io.out.flush();
  }
  if (!pages.status().ok()) {
    return FailWithPathHint(pages.status(), args, io.err);
  }
  return kExitOk;
}

// Fills a batch item's unset fields from the command line.
void ApplyDefaults(const CliArgs& args, v1::Request* request) {
  if (request->credentials().token_case() == v1::Credentials::TOKEN_NOT_SET &&
      args.credentials.token_case() != v1::Credentials::TOKEN_NOT_SET) {
    *request->mutable_credentials() = args.credentials;
  }
  if (!request->has_timeout() && args.timeout) {
    ToProto(*args.timeout, request->mutable_timeout());
  }
  if (request->sudo().empty()) request->set_sudo(args.sudo);
}

int RunBatch(const CliArgs& args, Io io) {
  absl::StatusOr<Client> made = MakeClient(args, /*stream=*/true);
  if (!made.ok()) return BadSetup(made.status(), io.err);
  const Client& client = *made;
  // The generator reads `in` on Batch's writer thread while responses are
  // printed to `out` on this one. std::cin is tied to std::cout: every read
  // would flush cout from the writer thread, racing this thread's writes
  // (seen as a response line printed twice).
  io.in.tie(nullptr);
  std::atomic<int64_t> sent{0};
  int64_t received = 0, failed = 0;
  std::string input_error;  // written by the generator, read after Batch
  int64_t line_number = 0;
  auto next = [&]() -> std::optional<v1::Request> {
    std::string line;
    while (std::getline(io.in, line)) {
      ++line_number;
      if (absl::StripAsciiWhitespace(line).empty()) continue;
      v1::Request request;
      auto parsed = google::protobuf::util::JsonStringToMessage(line, &request);
      if (!parsed.ok()) {
        input_error = absl::StrCat("stdin line ", line_number, ": ",
                                   parsed.message().as_string());
        return std::nullopt;
      }
      ApplyDefaults(args, &request);
      ++sent;
      return request;
    }
    return std::nullopt;
  };
  absl::Time last_draw = absl::InfinitePast();
  auto draw = [&](bool final) {
    if (!io.progress) return;
    absl::Time now = absl::Now();
    if (!final && now - last_draw < absl::Milliseconds(100)) return;
    last_draw = now;
    io.err << absl::StrFormat("\rbatch: %d sent, %d received, %d failed",
                              sent.load(), received, failed)
           << (final ? "\n" : "") << std::flush;
  };
  absl::Status status = client.Batch(
      next,
      [&](v1::Response response) {
        ++received;
        if (response.error().code() != 0) ++failed;
        std::string line;
        google::protobuf::util::MessageToJsonString(response, &line);
        io.out << line << "\n" << std::flush;
        draw(false);
      },
      {});
  draw(true);
  if (!input_error.empty()) {
    io.err << "error: " << input_error << "\n";
    return kExitUsage;
  }
  if (!status.ok()) return Fail(status, io.err);
  if (failed > 0) {
    io.err << "batch: " << failed << " of " << received << " items failed\n";
    return kExitFailed;
  }
  return kExitOk;
}

int RunHealth(const CliArgs& args, Io io) {
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
      ChannelCredentials(args);
  if (!credentials.ok()) return BadSetup(credentials.status(), io.err);
  auto channel = grpc::CreateChannel(args.target, *std::move(credentials));
  auto stub = grpc::health::v1::Health::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(
      absl::Now() + args.deadline.value_or(absl::Seconds(10))));
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(args.service);
  grpc::health::v1::HealthCheckResponse response;
  grpc::Status status = stub->Check(&context, request, &response);
  if (!status.ok()) return Fail(client::ToAbslStatus(status), io.err);
  io.out << grpc::health::v1::HealthCheckResponse::ServingStatus_Name(
                response.status())
         << "\n";
  return response.status() == grpc::health::v1::HealthCheckResponse::SERVING
             ? kExitOk
             : kExitFailed;
}

// Proto string fields must hold UTF-8; other bodies go as bytes.
bool IsUtf8(absl::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t extra;
    if (c < 0x80) {
      extra = 0;
    } else if (c >= 0xC2 && c <= 0xDF) {
      extra = 1;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2;
    } else if (c >= 0xF0 && c <= 0xF4) {
      extra = 3;
    } else {
      return false;
    }
    if (s.size() - i <= extra) return false;
    for (size_t k = 1; k <= extra; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    }
    i += 1 + extra;
  }
  return true;
}

absl::StatusOr<std::string> ReadFile(const std::string& name,
                                     std::istream& stdin_stream) {
  std::ostringstream content;
  if (name == "-") {
    content << stdin_stream.rdbuf();
    return content.str();
  }
  std::ifstream file(name, std::ios::binary);
  if (!file) return absl::NotFoundError(absl::StrCat("cannot read ", name));
  content << file.rdbuf();
  return content.str();
}

}  // namespace

v1::Request BuildRequest(const CliArgs& args) {
  v1::Request request;
  std::string method = absl::AsciiStrToUpper(args.command);
  if (args.command == "paginate") method = "GET";
  request.set_method(method);
  request.set_path(args.path);
  if (args.graphql) request.set_api(v1::API_GRAPHQL);
  for (const auto& [key, value] : args.query) {
    v1::Param* param = request.add_query();
    param->set_key(key);
    param->set_value(value);
  }
  for (const auto& [name, value] : args.headers) {
    v1::Header* header = request.add_headers();
    header->set_name(name);
    header->set_value(value);
  }
  if (args.data && IsUtf8(*args.data)) {
    request.set_text(*args.data);
  } else if (args.data) {
    request.set_content(*args.data);
  }
  if (args.timeout) ToProto(*args.timeout, request.mutable_timeout());
  if (args.credentials.token_case() != v1::Credentials::TOKEN_NOT_SET) {
    *request.mutable_credentials() = args.credentials;
  }
  request.set_sudo(args.sudo);
  return request;
}

int Run(const std::vector<std::string>& argv, const EnvLookup& env, Io io) {
  absl::StatusOr<CliArgs> args = ParseArgs(
      argv, env,
      [&io](const std::string& name) { return ReadFile(name, io.in); });
  if (!args.ok()) {
    io.err << "gitlab-gateway-cli: " << args.status().message() << "\n";
    return kExitUsage;
  }
  const std::string& command = args->command;
  if (command == "help") {
    io.out << UsageText();
    return kExitOk;
  }
  if (command == "batch") return RunBatch(*args, io);
  if (command == "paginate") return RunPaginate(*args, io);
  if (command == "health") return RunHealth(*args, io);
  if (command == "download") return RunDownload(*args, io);
  if (command == "upload") return RunUpload(*args, io);
  if (command == "get" && !args->json && !args->graphql) {
    return RunGet(*args, io);
  }
  return RunCall(*args, io);
}

}  // namespace gitlab_gateway::cli
