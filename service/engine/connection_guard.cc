#include "service/engine/connection_guard.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace gitlab_gateway::engine {
namespace {

// "127.0.0.1" / "::1" and the port, as curl formats a connection's addresses
// for the pre-request callback; false for other families.
bool Format(const sockaddr_storage& address, std::string* ip, int* port) {
  char text[INET6_ADDRSTRLEN] = {0};
  if (address.ss_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&address);
    if (inet_ntop(AF_INET, &in->sin_addr, text, sizeof(text)) == nullptr) {
      return false;
    }
    *port = ntohs(in->sin_port);
  } else if (address.ss_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&address);
    if (inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof(text)) == nullptr) {
      return false;
    }
    *port = ntohs(in6->sin6_port);
  } else {
    return false;
  }
  *ip = text;
  return true;
}

// Whether a reused connection may carry HTTP/1.x, and its TLS session if it
// has one. False for HTTP/2 and for TLS through a library other than
// OpenSSL (its ALPN cannot be read here).
bool MaySpeakHttp1(CURL* easy, SSL** ssl) {
  *ssl = nullptr;
  curl_tlssessioninfo* tls = nullptr;
  if (curl_easy_getinfo(easy, CURLINFO_TLS_SSL_PTR, &tls) != CURLE_OK ||
      tls == nullptr || tls->internals == nullptr) {
    // Plain TCP: the engine asks for HTTP/2 over TLS only (no h2c).
    return true;
  }
  if (tls->backend != CURLSSLBACKEND_OPENSSL) return false;
  *ssl = static_cast<SSL*>(tls->internals);
  const unsigned char* alpn = nullptr;
  unsigned int length = 0;
  SSL_get0_alpn_selected(*ssl, &alpn, &length);
  return !(length == 2 && std::memcmp(alpn, "h2", 2) == 0);
}

}  // namespace

void ConnectionGuard::Attach(CURL* easy) {
  curl_easy_setopt(easy, CURLOPT_OPENSOCKETFUNCTION, &ConnectionGuard::OnOpen);
  curl_easy_setopt(easy, CURLOPT_OPENSOCKETDATA, this);
  curl_easy_setopt(easy, CURLOPT_CLOSESOCKETFUNCTION,
                   &ConnectionGuard::OnClose);
  curl_easy_setopt(easy, CURLOPT_CLOSESOCKETDATA, this);
}

bool ConnectionGuard::RefuseUnclean(CURL* easy, const char* primary_ip,
                                    const char* local_ip, int primary_port,
                                    int local_port) {
  long new_connections = -1;
  if (curl_easy_getinfo(easy, CURLINFO_NUM_CONNECTS, &new_connections) !=
          CURLE_OK ||
      new_connections != 0) {
    return false;  // a fresh connection: nothing was left on it
  }
  SSL* ssl = nullptr;
  if (!MaySpeakHttp1(easy, &ssl)) return false;
  curl_socket_t fd = Find(primary_ip, local_ip, primary_port, local_port);
  if (fd == CURL_SOCKET_BAD) return false;
  bool unclean = ssl != nullptr && SSL_has_pending(ssl) == 1;
  if (!unclean) {
    char byte;
    ssize_t n = recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    // Bytes, an EOF or a reset: anything but "nothing to read yet".
    unclean =
        n >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
  }
  if (!unclean) return false;
  // Not close(): curl owns the descriptor. After this the send fails (EPIPE)
  // and curl closes the connection and retries on a fresh one.
  shutdown(fd, SHUT_RDWR);
  ++refused_;
  return true;
}

curl_socket_t ConnectionGuard::Find(const char* primary_ip,
                                    const char* local_ip, int primary_port,
                                    int local_port) {
  if (primary_ip == nullptr || local_ip == nullptr) return CURL_SOCKET_BAD;
  for (auto& [fd, endpoints] : sockets_) {
    if (!endpoints.known) {
      sockaddr_storage local{}, peer{};
      socklen_t local_len = sizeof(local), peer_len = sizeof(peer);
      if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_len) !=
              0 ||
          getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &peer_len) != 0 ||
          !Format(local, &endpoints.local_ip, &endpoints.local_port) ||
          !Format(peer, &endpoints.peer_ip, &endpoints.peer_port)) {
        continue;  // not connected (yet): not the one in use
      }
      endpoints.known = true;
    }
    if (endpoints.local_port == local_port &&
        endpoints.peer_port == primary_port && endpoints.local_ip == local_ip &&
        endpoints.peer_ip == primary_ip) {
      return fd;
    }
  }
  return CURL_SOCKET_BAD;
}

curl_socket_t ConnectionGuard::OnOpen(void* clientp, curlsocktype purpose,
                                      curl_sockaddr* address) noexcept {
  auto* self = static_cast<ConnectionGuard*>(clientp);
  curl_socket_t fd = socket(address->family, address->socktype | SOCK_CLOEXEC,
                            address->protocol);
  if (fd == CURL_SOCKET_BAD) return fd;
  self->sockets_[fd] = Endpoints{};
  if (self->on_open_) self->on_open_(fd);
  return fd;
}

int ConnectionGuard::OnClose(void* clientp, curl_socket_t fd) noexcept {
  auto* self = static_cast<ConnectionGuard*>(clientp);
  self->sockets_.erase(fd);
  if (self->on_close_) self->on_close_(fd);
  return close(fd);
}

}  // namespace gitlab_gateway::engine
