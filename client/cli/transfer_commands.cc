#include "client/cli/transfer_commands.h"

#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <system_error>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "client/cli/progress_line.h"

namespace gitlab_gateway::cli {

namespace v1 = ::gitlab::gateway::v1;
namespace {

// get buffers a textual answer up to this size to print it like Execute's.
constexpr size_t kMaxBuffered = size_t{64} << 20;
constexpr size_t kPieceBytes = size_t{1} << 20;

std::string HeaderValue(const v1::Response& head, absl::string_view name) {
  for (const v1::Header& h : head.headers()) {
    if (absl::EqualsIgnoreCase(h.name(), name)) return h.value();
  }
  return "";
}

std::optional<uint64_t> ContentLength(const v1::Response& head) {
  uint64_t length = 0;
  if (absl::SimpleAtoi(HeaderValue(head, "Content-Length"), &length)) {
    return length;
  }
  return std::nullopt;
}

bool IsTextual(const v1::Response& head) {
  std::string type = absl::AsciiStrToLower(HeaderValue(head, "Content-Type"));
  return type.empty() || absl::StrContains(type, "json") ||
         absl::StartsWith(type, "text/");
}

void PrintHead(const v1::Response& head, std::ostream& out) {
  out << "HTTP " << head.status_code() << "\n";
  for (const v1::Header& h : head.headers()) {
    out << h.name() << ": " << h.value() << "\n";
  }
  out << "\n";
}

int WriteFailed(const std::string& name, std::ostream& err) {
  err << "error: cannot write " << name << "\n";
  return kExitFailed;
}

}  // namespace

int RunGet(const CliArgs& args, Io io) {
  absl::StatusOr<client::Client> made = MakeClient(args, /*stream=*/false);
  if (!made.ok()) return BadSetup(made.status(), io.err);
  const client::Client& client = *made;
  v1::Response head;
  bool buffering = false;
  std::string body;
  absl::Status status = client.Download(
      BuildRequest(args),
      [&](const v1::Response& h) {
        head = h;
        buffering = IsTextual(head);
        if (!buffering && args.include) PrintHead(head, io.out);
        return true;
      },
      [&](absl::string_view data) {
        if (buffering) {
          if (body.size() + data.size() <= kMaxBuffered) {
            body.append(data.data(), data.size());
            return true;
          }
          // Too big to print like Execute: stream it as received.
          buffering = false;
          if (args.include) PrintHead(head, io.out);
          io.out << body;
          std::string().swap(body);
        }
        io.out.write(data.data(), static_cast<std::streamsize>(data.size()));
        return static_cast<bool>(io.out);
      });
  if (!status.ok()) return FailWithPathHint(status, args, io.err);
  if (!io.out) return WriteFailed("stdout", io.err);
  if (buffering) {
    head.set_text(std::move(body));
    PrintResponse(head, args, io.out);
  }
  return kExitOk;
}

int RunDownload(const CliArgs& args, Io io) {
  const bool to_stdout = args.output.empty() || args.output == "-";
  std::ofstream file;
  if (!to_stdout) {
    file.open(args.output, std::ios::binary | std::ios::trunc);
    if (!file) return WriteFailed(args.output, io.err);
  }
  std::ostream& out = to_stdout ? io.out : file;
  const std::string name = to_stdout ? "stdout" : args.output;
  absl::StatusOr<client::Client> made = MakeClient(args, /*stream=*/true);
  if (!made.ok()) return BadSetup(made.status(), io.err);
  const client::Client& client = *made;
  ProgressLine progress(io.err, io.progress, "download");
  v1::Request request = BuildRequest(args);
  request.set_method("GET");
  bool started = false;
  absl::Status status = client.Download(
      request,
      [&](const v1::Response& head) {
        started = true;
        progress.SetTotal(ContentLength(head));
        return true;
      },
      [&](absl::string_view data) {
        out.write(data.data(), static_cast<std::streamsize>(data.size()));
        progress.Add(data.size());
        return static_cast<bool>(out);
      });
  if (started) progress.Done();
  out.flush();
  if (!out) return WriteFailed(name, io.err);
  if (!status.ok()) {
    if (!to_stdout) {
      io.err << "download: " << args.output
             << " holds the bytes received so far (resume with -H 'Range: "
                "bytes=<size>-')\n";
    }
    return Fail(status, io.err);
  }
  return kExitOk;
}

int RunUpload(const CliArgs& args, Io io) {
  const bool from_stdin = args.input == "-";
  std::ifstream file;
  std::optional<int64_t> size;
  if (!from_stdin) {
    file.open(args.input, std::ios::binary);
    if (!file) {
      io.err << "error: cannot read " << args.input << "\n";
      return kExitUsage;
    }
    std::error_code error;
    uintmax_t bytes = std::filesystem::file_size(args.input, error);
    if (!error) size = static_cast<int64_t>(bytes);
  }
  std::istream& in = from_stdin ? io.in : file;
  v1::Request request = BuildRequest(args);
  request.set_method(args.upload_method);
  absl::StatusOr<client::Client> made = MakeClient(args, /*stream=*/true);
  if (!made.ok()) return BadSetup(made.status(), io.err);
  const client::Client& client = *made;
  ProgressLine progress(io.err, io.progress, "upload");
  if (size.has_value()) progress.SetTotal(static_cast<uint64_t>(*size));
  bool read_failed = false;
  absl::StatusOr<v1::Response> response =
      client.Upload(request, size, [&](std::string* piece) {
        piece->resize(kPieceBytes);
        in.read(piece->data(), static_cast<std::streamsize>(kPieceBytes));
        piece->resize(static_cast<size_t>(in.gcount()));
        if (in.bad()) read_failed = true;
        progress.Add(piece->size());
        return !piece->empty() && !read_failed;
      });
  progress.Done();
  if (read_failed) {
    io.err << "error: reading " << args.input << " failed\n";
    return kExitFailed;
  }
  if (!response.ok()) return Fail(response.status(), io.err);
  PrintResponse(*response, args, io.out);
  return kExitOk;
}

}  // namespace gitlab_gateway::cli
