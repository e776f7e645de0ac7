#include "client/cli/cli_args.h"

#include <type_traits>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace gitlab_gateway::cli {

namespace v1 = ::gitlab::gateway::v1;
namespace {

const absl::flat_hash_set<std::string>& Commands() {
  static const auto* commands = new absl::flat_hash_set<std::string>{
      "get",  "post",  "put",      "patch",  "delete",   "head",
      "batch", "paginate", "health", "help", "download", "upload"};
  return *commands;
}

bool TakesPath(const std::string& command) {
  return command != "batch" && command != "health" && command != "help";
}

absl::Status Usage(absl::string_view flag, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat(flag, ": ", problem));
}

// A project id or full path as one path segment: every byte but
// [A-Za-z0-9-._~] percent-encoded, so "group/sub/demo" -> group%2Fsub%2Fdemo.
std::string EncodeSegment(absl::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '.' || c == '_' ||
        c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      absl::StrAppend(&out, absl::StrFormat("%%%02X", c));
    }
  }
  return out;
}

// Flags only one command takes, checked once the command is known.
absl::Status CheckCommandFlags(const std::vector<std::string>& given,
                               const CliArgs& out) {
  for (const std::string& flag : given) {
    bool paginate_only =
        flag == "--max-pages" || flag == "--max-items" || flag == "--items";
    if (paginate_only && out.command != "paginate") {
      return Usage(flag,
                   absl::StrCat("only paginate takes it, not ", out.command));
    }
    if (flag == "--project" && !TakesPath(out.command)) {
      return Usage(flag, absl::StrCat(out.command, " takes no path"));
    }
  }
  if (out.items && (out.json || out.include)) {
    return Usage("--items", "cannot be combined with --json or -i");
  }
  return absl::OkStatus();
}

absl::StatusOr<absl::Duration> ParsePositiveDuration(absl::string_view flag,
                                                     const std::string& text) {
  absl::Duration d;
  int64_t seconds;
  if (absl::SimpleAtoi(text, &seconds)) {
    d = absl::Seconds(seconds);
  } else if (!absl::ParseDuration(text, &d)) {
    return Usage(
        flag, absl::StrCat("\"", text, "\" is not a duration (e.g. 10s, 1m)"));
  }
  if (d <= absl::ZeroDuration()) return Usage(flag, "must be positive");
  return d;
}

template <typename Int>
absl::StatusOr<Int> ParseCount(absl::string_view flag,
                               const std::string& text) {
  Int value;
  if (!absl::SimpleAtoi(text, &value) || value < 0) {
    return Usage(flag, absl::StrCat("\"", text, "\" is not a count"));
  }
  return value;
}

// Sets `creds` from --private-token & co, or from the environment.
absl::Status SetToken(const std::string& flag, const std::string& value,
                      v1::Credentials* creds) {
  if (creds->token_case() != v1::Credentials::TOKEN_NOT_SET) {
    return Usage(flag,
                 "give only one of --private-token, --oauth-token, "
                 "--job-token");
  }
  if (value.empty()) return Usage(flag, "is empty");
  if (flag == "--private-token") creds->set_private_token(value);
  if (flag == "--oauth-token") creds->set_oauth_token(value);
  if (flag == "--job-token") creds->set_job_token(value);
  return absl::OkStatus();
}

absl::Status TokenFromEnv(const EnvLookup& env, v1::Credentials* creds) {
  static constexpr std::pair<const char*, const char*> kVars[] = {
      {"GITLAB_GATEWAY_PRIVATE_TOKEN", "--private-token"},
      {"GITLAB_GATEWAY_OAUTH_TOKEN", "--oauth-token"},
      {"GITLAB_GATEWAY_JOB_TOKEN", "--job-token"}};
  for (const auto& [var, flag] : kVars) {
    const char* value = env(var);
    if (value == nullptr || *value == '\0') continue;
    if (creds->token_case() != v1::Credentials::TOKEN_NOT_SET) {
      return Usage(var,
                   "set only one of GITLAB_GATEWAY_PRIVATE_TOKEN, "
                   "GITLAB_GATEWAY_OAUTH_TOKEN, GITLAB_GATEWAY_JOB_TOKEN");
    }
    if (absl::Status s = SetToken(flag, value, creds); !s.ok()) return s;
  }
  return absl::OkStatus();
}

// One flag. `value` yields its argument (inline "--f=v" or the next arg).
absl::Status ApplyFlag(
    const std::string& name,
    const std::function<absl::StatusOr<std::string>()>& value,
    const FileReader& read_file, CliArgs* out) {
  auto with_value = [&](auto apply) -> absl::Status {
    absl::StatusOr<std::string> v = value();
    if (!v.ok()) return v.status();
    return apply(*v);
  };
  if (name == "-q" || name == "--query") {
    return with_value([&](const std::string& v) {
      size_t eq = v.find('=');
      if (eq == 0) return Usage(name, absl::StrCat("\"", v, "\" has no key"));
      if (eq == std::string::npos) {
        out->query.emplace_back(v, "");
      } else {
        out->query.emplace_back(v.substr(0, eq), v.substr(eq + 1));
      }
      return absl::OkStatus();
    });
  }
  if (name == "-H" || name == "--header") {
    return with_value([&](const std::string& v) {
      size_t colon = v.find(':');
      if (colon == std::string::npos || colon == 0) {
        return Usage(name, absl::StrCat("\"", v, "\" is not \"Name: value\""));
      }
      out->headers.emplace_back(
          std::string(absl::StripAsciiWhitespace(v.substr(0, colon))),
          std::string(absl::StripAsciiWhitespace(v.substr(colon + 1))));
      return absl::OkStatus();
    });
  }
  if (name == "-d" || name == "--data") {
    return with_value([&](const std::string& v) {
      if (!absl::StartsWith(v, "@")) {
        out->data = v;
        return absl::OkStatus();
      }
      absl::StatusOr<std::string> content = read_file(v.substr(1));
      if (!content.ok()) return Usage(name, content.status().message());
      out->data = *std::move(content);
      return absl::OkStatus();
    });
  }
  auto set_string = [&](std::string* field) {
    return with_value([&](const std::string& v) {
      *field = v;
      return absl::OkStatus();
    });
  };
  if (name == "--sudo") return set_string(&out->sudo);
  if (name == "--ca-file") return set_string(&out->ca_file);
  if (name == "--cert") return set_string(&out->cert_file);
  if (name == "--key") return set_string(&out->key_file);
  if (name == "--caller-token-file") {
    return with_value([&](const std::string& v) -> absl::Status {
      absl::StatusOr<std::string> content = read_file(v);
      if (!content.ok()) return Usage(name, content.status().message());
      std::string token(absl::StripAsciiWhitespace(*content));
      // Never quote the file: it holds a secret.
      if (token.empty()) return Usage(name, absl::StrCat(v, " is empty"));
      out->caller_token = std::move(token);
      return absl::OkStatus();
    });
  }
  if (name == "--target") return set_string(&out->target);
  if (name == "--service") return set_string(&out->service);
  if (name == "--project") {
    return with_value([&](const std::string& v) {
      if (v.empty()) return Usage(name, "is empty");
      out->project = v;
      return absl::OkStatus();
    });
  }
  auto set_duration = [&](std::optional<absl::Duration>* field) {
    return with_value([&](const std::string& v) -> absl::Status {
      absl::StatusOr<absl::Duration> d = ParsePositiveDuration(name, v);
      if (!d.ok()) return d.status();
      *field = *d;
      return absl::OkStatus();
    });
  };
  if (name == "--timeout") return set_duration(&out->timeout);
  if (name == "--deadline") return set_duration(&out->deadline);
  auto set_count = [&](auto* field) {
    return with_value([&, field](const std::string& v) -> absl::Status {
      auto n = ParseCount<std::remove_pointer_t<decltype(field)>>(name, v);
      if (!n.ok()) return n.status();
      *field = *n;
      return absl::OkStatus();
    });
  };
  if (name == "-o" || name == "--output" || name == "--input") {
    std::string* field = name == "--input" ? &out->input : &out->output;
    return with_value([field](const std::string& v) {
      *field = v;
      return absl::OkStatus();
    });
  }
  if (name == "--max-pages") return set_count(&out->max_pages);
  if (name == "--max-items") return set_count(&out->max_items);
  if (name == "--private-token" || name == "--oauth-token" ||
      name == "--job-token") {
    return with_value([&](const std::string& v) {
      return SetToken(name, v, &out->credentials);
    });
  }
  return Usage(name, "unknown flag (see gitlab-gateway-cli help)");
}

bool ApplySwitch(const std::string& name, CliArgs* out) {
  if (name == "-i" || name == "--include") return out->include = true;
  if (name == "--raw") return out->raw = true;
  if (name == "--json") return out->json = true;
  if (name == "--graphql") return out->graphql = true;
  if (name == "--tls") return out->tls = true;
  if (name == "--post") {
    out->upload_method = "POST";
    return true;
  }
  if (name == "--items") return out->items = true;
  if (name == "-h" || name == "--help") {
    out->command = "help";
    return true;
  }
  return false;
}

}  // namespace

absl::StatusOr<CliArgs> ParseArgs(const std::vector<std::string>& args,
                                  const EnvLookup& env,
                                  const FileReader& read_file) {
  CliArgs out;
  if (const char* target = env("GITLAB_GATEWAY_TARGET");
      target != nullptr && *target != '\0') {
    out.target = target;
  }
  std::vector<std::string> positional;
  std::vector<std::string> given;  // flags checked against the command
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--") {
      positional.insert(positional.end(), args.begin() + i + 1, args.end());
      break;
    }
    if (arg.size() < 2 || arg[0] != '-') {
      positional.push_back(arg);
      continue;
    }
    std::string name = arg;
    std::optional<std::string> inline_value;
    if (absl::StartsWith(arg, "--")) {
      if (size_t eq = arg.find('='); eq != std::string::npos) {
        name = arg.substr(0, eq);
        inline_value = arg.substr(eq + 1);
      }
    } else if (arg.size() > 2) {  // -qkey=value, -HName:value
      name = arg.substr(0, 2);
      inline_value = arg.substr(2);
    }
    given.push_back(name);
    // upload's -i names the input file (elsewhere it is --include).
    if (name == "-i" && !positional.empty() &&
        absl::AsciiStrToLower(positional[0]) == "upload") {
      name = "--input";
    }
    if (!inline_value && ApplySwitch(name, &out)) continue;
    auto value = [&]() -> absl::StatusOr<std::string> {
      if (inline_value) return *inline_value;
      if (i + 1 >= args.size()) return Usage(name, "needs a value");
      return args[++i];
    };
    if (absl::Status s = ApplyFlag(name, value, read_file, &out); !s.ok()) {
      return s;
    }
  }
  if (out.command == "help") return out;
  // The environment stands in for flags not given, as in the Python, Node
  // and Go clients; a certificate and its key come from the same place.
  auto from_env = [&](const char* name) {
    const char* value = env(name);
    return std::string(value == nullptr ? "" : value);
  };
  if (out.ca_file.empty()) out.ca_file = from_env("GITLAB_GATEWAY_CA_FILE");
  if (out.cert_file.empty() && out.key_file.empty()) {
    out.cert_file = from_env("GITLAB_GATEWAY_CERT_FILE");
    out.key_file = from_env("GITLAB_GATEWAY_KEY_FILE");
    if (out.cert_file.empty() != out.key_file.empty()) {
      return Usage(out.cert_file.empty() ? "GITLAB_GATEWAY_CERT_FILE"
                                         : "GITLAB_GATEWAY_KEY_FILE",
                   "GITLAB_GATEWAY_CERT_FILE and GITLAB_GATEWAY_KEY_FILE go "
                   "together");
    }
  }
  if (out.cert_file.empty() != out.key_file.empty()) {
    return Usage(out.cert_file.empty() ? "--cert" : "--key",
                 "--cert and --key go together");
  }
  if (!out.ca_file.empty() || !out.cert_file.empty()) out.tls = true;
  if (out.caller_token.empty()) {
    if (const char* token = env("GITLAB_GATEWAY_CALLER_TOKEN");
        token != nullptr) {
      out.caller_token = std::string(absl::StripAsciiWhitespace(token));
    }
  }
  if (positional.empty()) return Usage("command", "missing (try help)");
  out.command = absl::AsciiStrToLower(positional[0]);
  if (!Commands().contains(out.command)) {
    return Usage("command", absl::StrCat("unknown command \"", positional[0],
                                         "\" (try help)"));
  }
  if (absl::Status s = CheckCommandFlags(given, out); !s.ok()) return s;
  size_t want = TakesPath(out.command) ? 2 : 1;
  if (want == 2 && positional.size() >= 2) out.path = positional[1];
  if (!out.project.empty()) {
    std::string rest = out.path;
    if (!rest.empty() && rest.front() != '/') rest.insert(0, "/");
    out.path = absl::StrCat("/projects/", EncodeSegment(out.project), rest);
  }
  if (want == 2 && out.path.empty() && !out.graphql) {
    return Usage("path", absl::StrCat(out.command,
                                      " needs an API path, e.g. "
                                      "/projects/42"));
  }
  if (positional.size() > want) {
    return Usage("arguments",
                 absl::StrCat("unexpected \"", positional[want], "\""));
  }
  if (out.command == "upload" && out.input.empty()) {
    return Usage("-i", "upload needs the file to send (-i FILE, - for stdin)");
  }
  if (out.credentials.token_case() == v1::Credentials::TOKEN_NOT_SET) {
    if (absl::Status s = TokenFromEnv(env, &out.credentials); !s.ok()) {
      return s;
    }
  }
  return out;
}

const char* UsageText() {
  return R"(gitlab-gateway-cli: call the GitLab API through gitlab-gateway.

Usage:
  gitlab-gateway-cli get|post|put|patch|delete|head PATH [flags]
  gitlab-gateway-cli get --project GROUP/NAME [SUBPATH] [flags]
  gitlab-gateway-cli download PATH [-o FILE] [flags]
  gitlab-gateway-cli upload PATH -i FILE [--post] [flags]
  gitlab-gateway-cli paginate PATH [--max-pages N] [--max-items N] [--items]
  gitlab-gateway-cli batch [flags] < requests.ndjson > responses.ndjson
  gitlab-gateway-cli health [--service NAME]

PATH is under /api/v4 and sent as given: a project or group named by its
path needs each "/" as %2F (/projects/group%2Fdemo), or use --project.

Request flags:
  --project GROUP/NAME    the path is /projects/GROUP%2FNAME, then SUBPATH
                          if given (e.g. --project group/demo issues)
  -q, --query KEY=VALUE   query parameter (repeatable, order kept)
  -H, --header 'N: V'     request header (repeatable)
  -d, --data TEXT|@FILE   request body (@- reads stdin)
  --sudo USER             act as USER (Sudo header)
  --timeout D             bound for the GitLab call, retries included (10s)
  --graphql               POST to the GraphQL API (PATH empty)
  --private-token T       caller credential [env GITLAB_GATEWAY_PRIVATE_TOKEN]
  --oauth-token T         [env GITLAB_GATEWAY_OAUTH_TOKEN]
  --job-token T           [env GITLAB_GATEWAY_JOB_TOKEN]
Output and connection:
  -i, --include           print the status line and headers before the body
  --raw                   print the body as received (no pretty JSON)
  --json                  print each Response as protobuf JSON on one line
  --items                 paginate: print each item of every page as one
                          compact JSON line (NDJSON) instead of the pages
  --target HOST:PORT      gateway address [env GITLAB_GATEWAY_TARGET]
                          (default localhost:50051)
  --deadline D            RPC deadline (default: timeout + 5s, 1h for
                          batch and paginate)
Gateway security (see the README's "Caller identity and TLS"):
  --tls                   TLS to the gateway, verified by the system's CAs
  --ca-file FILE          TLS, verified by these CAs (PEM)
                          [env GITLAB_GATEWAY_CA_FILE]
  --cert FILE, --key FILE client certificate and key (PEM) for mTLS
                          [env GITLAB_GATEWAY_CERT_FILE, _KEY_FILE]
  --caller-token-file F   bearer secret identifying the caller (sent as
                          authorization: Bearer; in clear without TLS)
                          [env GITLAB_GATEWAY_CALLER_TOKEN]

get and download stream the body through Download (get pretty-prints JSON
answers up to 64 MiB, download writes the body as received to FILE or stdout);
upload streams FILE (PUT, or POST with --post) through Upload. Both draw a
progress line on stderr when it is a terminal.

batch reads one JSON gitlab.gateway.v1.Request per line and writes one JSON
Response per line as they complete; token flags fill in requests without
credentials. Exit status: 0 success, 1 failed call (decoded error on stderr),
2 bad usage or input.
)";
}

}  // namespace gitlab_gateway::cli
