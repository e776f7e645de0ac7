#ifndef GITLAB_GATEWAY_SERVICE_ENGINE_CONNECTION_GUARD_H_
#define GITLAB_GATEWAY_SERVICE_ENGINE_CONNECTION_GUARD_H_

#include <curl/curl.h>

#include <cstdint>
#include <functional>
#include <string>

#include "absl/container/flat_hash_map.h"

namespace gitlab_gateway::engine {

// Keeps a desynchronised HTTP/1.x keep-alive connection from answering the
// wrong caller. An upstream (or a broken proxy) that writes an unrequested
// response after an answer leaves it unread on the idle connection; libcurl
// 7.88 still reuses such a connection (8.0 refuses connections with pending
// input), and the next caller would read it as its own answer.
//
// Before a request goes out on a reused HTTP/1.x connection (curl's
// pre-request callback) the guard looks for unread bytes: in the socket
// (recv MSG_PEEK, zero timeout) and, over TLS, in OpenSSL's buffers. If there
// are any, it shuts the socket down: curl's send then fails on a reused
// connection, curl closes it and sends the request on a fresh connection
// (its retry for connections that died while idle). Nothing was sent on the
// unclean connection, so this is safe for every method.
//
// HTTP/2 connections are never checked: frames of other streams may be
// pending at any time, and stream ids keep answers apart.
//
// It learns the sockets through curl's open/close socket callbacks, to find
// the one a pre-request callback names by address.
//
// Loop thread only (every callback runs there). Must outlive the CURLM, whose
// connection cache closes sockets through it.
class ConnectionGuard {
 public:
  ConnectionGuard() = default;
  ConnectionGuard(const ConnectionGuard&) = delete;
  ConnectionGuard& operator=(const ConnectionGuard&) = delete;

  // Installs the socket callbacks on `easy` (again after curl_easy_reset).
  void Attach(CURL* easy);

  // From the pre-request callback of `easy`, with the addresses curl passes
  // it. True when the connection was reused, speaks HTTP/1.x, held unread
  // bytes and was shut down (curl retries on a fresh connection).
  bool RefuseUnclean(CURL* easy, const char* primary_ip, const char* local_ip,
                     int primary_port, int local_port);

  // Connections refused so far.
  uint64_t refused() const { return refused_; }

  // Told of every socket curl opens through the guard, and of every one it
  // closes, just before the close (the EventLoop keeps epoll registrations
  // of such sockets across transfers). Set before the first Attach.
  void ObserveSockets(std::function<void(curl_socket_t)> opened,
                      std::function<void(curl_socket_t)> closing) {
    on_open_ = std::move(opened);
    on_close_ = std::move(closing);
  }

 private:
  struct Endpoints {
    bool known = false;  // filled on first lookup; fixed once connected
    int local_port = 0;
    int peer_port = 0;
    std::string local_ip;
    std::string peer_ip;
  };

  // The socket with these endpoints, or CURL_SOCKET_BAD.
  curl_socket_t Find(const char* primary_ip, const char* local_ip,
                     int primary_port, int local_port);

  static curl_socket_t OnOpen(void* clientp, curlsocktype purpose,
                              curl_sockaddr* address) noexcept;
  static int OnClose(void* clientp, curl_socket_t fd) noexcept;

  absl::flat_hash_map<curl_socket_t, Endpoints> sockets_;
  uint64_t refused_ = 0;
  std::function<void(curl_socket_t)> on_open_;
  std::function<void(curl_socket_t)> on_close_;
};

}  // namespace gitlab_gateway::engine

#endif  // GITLAB_GATEWAY_SERVICE_ENGINE_CONNECTION_GUARD_H_
