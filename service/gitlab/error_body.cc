#include "service/gitlab/error_body.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <array>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "service/gitlab/response_body.h"

namespace gitlab_gateway::gitlab {
namespace {

using ::google::protobuf::Struct;
using ::google::protobuf::Value;

// Whitespace and control characters collapse to single spaces; the result is
// trimmed, valid UTF-8 and at most kMaxErrorMessageBytes (with "..." when
// cut). Scanning stops early so a huge body costs little.
std::string Readable(absl::string_view text) {
  std::string out;
  bool pending_space = false;
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    out.push_back(c);
    if (out.size() > kMaxErrorMessageBytes) break;
  }
  if (out.size() <= kMaxErrorMessageBytes) {
    // Each invalid byte becomes a 3-byte U+FFFD: check the size again.
    std::string valid = ToValidUtf8(out);
    if (valid.size() <= kMaxErrorMessageBytes) return valid;
  }
  return ToValidUtf8(out, kMaxErrorMessageBytes - 3) + "...";
}

std::string Text(const Value& v);

// Sorted keys: protobuf maps have no order and messages must be stable.
std::vector<std::string> SortedKeys(const Struct& s) {
  std::vector<std::string> keys;
  for (const auto& [key, unused] : s.fields()) keys.push_back(key);
  std::sort(keys.begin(), keys.end());
  return keys;
}

// The texts of a value that is a string or a list of them.
std::vector<std::string> Texts(const Value& v) {
  std::vector<std::string> texts;
  if (v.kind_case() != Value::kListValue) {
    texts.push_back(Text(v));
  } else {
    for (const Value& item : v.list_value().values()) {
      texts.push_back(Text(item));
    }
  }
  texts.erase(std::remove(texts.begin(), texts.end(), ""), texts.end());
  return texts;
}

// A validation map {"name": ["has already been taken"], "base": ["..."]}:
// "name has already been taken; ...". Collects violations when asked. The
// endpoint rate limiter's {"error": "..."} is a message, not a field.
std::string FieldMapText(
    const Struct& map,
    std::vector<std::pair<std::string, std::string>>* violations) {
  std::vector<std::string> parts;
  for (const std::string& key : SortedKeys(map)) {
    const Value& value = map.fields().at(key);
    if (key == "error" && value.kind_case() == Value::kStringValue) {
      parts.push_back(value.string_value());
      continue;
    }
    for (std::string& text : Texts(value)) {
      parts.push_back(key == "base" ? text : absl::StrCat(key, " ", text));
      if (violations) violations->emplace_back(key, std::move(text));
    }
  }
  return absl::StrJoin(parts, "; ");
}

std::string Text(const Value& v) {
  switch (v.kind_case()) {
    case Value::kStringValue:
      return v.string_value();
    case Value::kNumberValue:
      return absl::StrCat(v.number_value());
    case Value::kBoolValue:
      return v.bool_value() ? "true" : "false";
    case Value::kListValue:
      return absl::StrJoin(Texts(v), "; ");
    case Value::kStructValue:
      return FieldMapText(v.struct_value(), nullptr);
    default:
      return "";
  }
}

// OAuth codes are lower_snake tokens ("invalid_token"); Grape's
// {"error": "title is missing"} is prose.
bool IsOAuthCode(absl::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return absl::ascii_islower(static_cast<unsigned char>(c)) || c == '_';
  });
}

std::string StringField(const Struct& s, absl::string_view key) {
  const auto it = s.fields().find(std::string(key));
  if (it == s.fields().end()) return "";
  return it->second.kind_case() == Value::kStringValue
             ? it->second.string_value()
             : Text(it->second);
}

void FromObject(const Struct& s, ErrorBody* out) {
  const auto& fields = s.fields();
  if (auto it = fields.find("message"); it != fields.end()) {
    out->message =
        it->second.kind_case() == Value::kStructValue
            ? FieldMapText(it->second.struct_value(), &out->field_violations)
            : Text(it->second);
  }
  const std::string error = StringField(s, "error");
  const std::string description = StringField(s, "error_description");
  const bool oauth = fields.count("error") &&
                     fields.at("error").kind_case() == Value::kStringValue &&
                     IsOAuthCode(error);
  if (oauth) out->error_code = error;
  if (out->message.empty() && !(error.empty() && description.empty())) {
    out->message = error.empty() || description.empty()
                       ? error + description
                       : absl::StrCat(error, ": ", description);
    if (const std::string scope = StringField(s, "scope"); !scope.empty()) {
      absl::StrAppend(&out->message, " (scope: ", scope, ")");
    }
  }
  if (out->message.empty() && fields.count("errors")) {  // GraphQL
    std::vector<std::string> parts;
    const Value& errors = fields.at("errors");
    if (errors.kind_case() == Value::kListValue) {
      for (const Value& e : errors.list_value().values()) {
        parts.push_back(e.kind_case() == Value::kStructValue &&
                                e.struct_value().fields().count("message")
                            ? Text(e.struct_value().fields().at("message"))
                            : Text(e));
      }
    }
    out->message = parts.empty() ? Text(errors) : absl::StrJoin(parts, "; ");
  }
}

std::string DecodeEntities(absl::string_view s) {
  static constexpr std::array<std::pair<absl::string_view, char>, 6> kEntities =
      {{{"&amp;", '&'},
        {"&lt;", '<'},
        {"&gt;", '>'},
        {"&quot;", '"'},
        {"&#39;", '\''},
        {"&nbsp;", ' '}}};
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    const auto it = std::find_if(
        kEntities.begin(), kEntities.end(),
        [&](const auto& e) { return absl::StartsWith(s.substr(i), e.first); });
    if (s[i] != '&' || it == kEntities.end()) {
      out.push_back(s[i]);
    } else {
      out.push_back(it->second);
      i += it->first.size() - 1;
    }
  }
  return out;
}

// Markup from a proxy, or a page served as text/html with leading chatter.
bool LooksLikeHtml(absl::string_view content_type, absl::string_view trimmed) {
  return trimmed.front() == '<' ||
         (absl::StrContains(absl::AsciiStrToLower(content_type), "html") &&
          absl::StrContains(absl::AsciiStrToLower(trimmed.substr(0, 64 * 1024)),
                            "<title"));
}

// The <title> of an HTML page, "" when it has none.
std::string HtmlTitle(absl::string_view body) {
  const std::string lower = absl::AsciiStrToLower(body.substr(0, 64 * 1024));
  const size_t open = lower.find("<title");
  if (open == std::string::npos) return "";
  const size_t start = lower.find('>', open);
  const size_t end = lower.find("</title", open);
  if (start == std::string::npos || end == std::string::npos || end < start) {
    return "";
  }
  return Readable(DecodeEntities(body.substr(start + 1, end - start - 1)));
}

std::string NonJson(absl::string_view body) {
  return absl::StrCat("non-JSON body (", body.size(), " bytes)");
}

}  // namespace

ErrorBody ParseErrorBody(absl::string_view body,
                         absl::string_view content_type) {
  ErrorBody out;
  const absl::string_view trimmed = absl::StripAsciiWhitespace(body);
  if (trimmed.empty()) return out;
  // GitLab's error JSON is small; a huge body (a proxy's dump, a 64 MiB
  // answer) is not parsed on the engine thread, only its start is shown.
  if (trimmed.size() <= kMaxParsedErrorBodyBytes &&
      (trimmed.front() == '{' || trimmed.front() == '[' ||
       trimmed.front() == '"')) {
    // A Latin-1 byte in a message should not hide the whole JSON body.
    const std::string json = ToValidUtf8(trimmed);
    Value value;
    if (google::protobuf::util::JsonStringToMessage(
            google::protobuf::StringPiece(json.data(), json.size()), &value)
            .ok()) {
      if (value.kind_case() == Value::kStructValue) {
        FromObject(value.struct_value(), &out);
      } else {
        out.message = Text(value);
      }
      // JSON without any field we know: show the JSON itself.
      out.message = Readable(out.message.empty() ? trimmed : out.message);
      for (auto& [field, text] : out.field_violations) {
        field = ToValidUtf8(field, kMaxErrorMessageBytes);
        text = Readable(text);
      }
      out.error_code = ToValidUtf8(out.error_code, kMaxErrorMessageBytes);
      return out;
    }
  }
  if (LooksLikeHtml(content_type, trimmed)) {
    out.message = HtmlTitle(trimmed);
    if (out.message.empty()) out.message = NonJson(body);
  } else if (IsValidUtf8(trimmed) &&
             trimmed.find('\0') == absl::string_view::npos) {
    out.message = Readable(trimmed);
  } else {
    out.message = NonJson(body);
  }
  return out;
}

}  // namespace gitlab_gateway::gitlab
