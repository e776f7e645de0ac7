"""gitlab_gateway (client/python) against a live gateway in TLS mode
(with_live_gateway.sh --secure, or --mtls for client certificates), which
lets only caller "example-app", known by its bearer secret or its
certificate, spend the gateway's token. The client's defaults come from the
environment the script sets, as a deployment's would."""
import os
import unittest
from unittest import mock

import grpc

import gitlab_gateway as gg

MODE = os.environ["GG_TEST_GATEWAY_MODE"]
TARGET = os.environ["GITLAB_GATEWAY_TARGET"]
CA = os.environ["GITLAB_GATEWAY_CA_FILE"]
OTHER_CA = os.environ["GG_TEST_OTHER_CA_FILE"]
CERT = os.environ["GG_TEST_CLIENT_CERT_FILE"]
KEY = os.environ["GG_TEST_CLIENT_KEY_FILE"]
with open(os.environ["GG_TEST_CALLER_TOKEN_FILE"]) as f:
    TOKEN = f.read().strip()
WRONG = "wrong-SECRET-5ca1ab1e"
GATEWAY_ENV = ("GITLAB_GATEWAY_CA_FILE", "GITLAB_GATEWAY_CERT_FILE",
               "GITLAB_GATEWAY_KEY_FILE", "GITLAB_GATEWAY_CALLER_TOKEN")


def without_gateway_env():
    env = {k: v for k, v in os.environ.items() if k not in GATEWAY_ENV}
    return mock.patch.dict(os.environ, env, clear=True)


@unittest.skipUnless(MODE == "tls", "needs with_live_gateway.sh --secure")
class TlsAndBearerTest(unittest.TestCase):
    def test_the_environment_alone_makes_a_tls_call_with_the_bearer(self):
        with gg.Client(timeout=20) as gw:
            echo = gw.get_json("/echo")
        # The gateway spent its own token for the known caller; the
        # caller's secret itself never goes to GitLab.
        self.assertEqual(echo["private_token"], "live-gateway-token")
        self.assertNotIn(TOKEN, repr(echo))

    def test_explicit_options_without_the_environment(self):
        with without_gateway_env(), gg.Client(
                TARGET, ca_file=CA, caller_token=TOKEN, timeout=20) as gw:
            self.assertEqual(gw.get_json("/projects/42")["id"], 42)
            items = list(gw.paginate("/projects/42/issues", max_items=3))
            self.assertGreaterEqual(len(items), 3)
            answers = list(gw.batch([{"id": "a", "path": "/projects/42"}]))
            self.assertEqual(answers[0].status_code, 200)

    def test_no_bearer_is_a_caller_authentication_error(self):
        with gg.Client(caller_token="", timeout=20) as gw:
            with self.assertRaises(gg.CallerAuthenticationError) as caught:
                gw.get("/projects/42")
            error = caught.exception
            self.assertIsInstance(error, gg.GatewayError)
            self.assertEqual(error.code, grpc.StatusCode.UNAUTHENTICATED)
            self.assertEqual(error.reason, "CALLER_UNAUTHENTICATED")
            self.assertIsNone(error.response_code)
            # In a batch the item fails, with the same exception.
            [answer] = gw.batch([{"id": "a", "path": "/projects/42"}])
            with self.assertRaises(gg.CallerAuthenticationError):
                gg.raise_for_error(answer)
            with self.assertRaises(gg.CallerAuthenticationError):
                list(gw.paginate("/projects/42/issues"))

    def test_a_wrong_bearer_is_refused_without_echoing_it(self):
        with gg.Client(caller_token=WRONG, timeout=20) as gw:
            with self.assertRaises(gg.CallerAuthenticationError) as caught:
                gw.get("/projects/42")
        self.assertEqual(caught.exception.reason, "CALLER_UNAUTHENTICATED")
        self.assertNotIn(WRONG, str(caught.exception))

    def test_a_client_trusting_another_ca_cannot_connect(self):
        with gg.Client(ca_file=OTHER_CA, timeout=10) as gw:
            with self.assertRaises(gg.GatewayError) as caught:
                gw.get("/projects/42")
        self.assertEqual(caught.exception.code, grpc.StatusCode.UNAVAILABLE)

    def test_plaintext_to_the_tls_port_cannot_connect(self):
        with gg.Client(tls=False, timeout=10) as gw:
            with self.assertRaises(gg.GatewayError) as caught:
                gw.get("/projects/42")
        self.assertEqual(caught.exception.code, grpc.StatusCode.UNAVAILABLE)

    def test_bad_tls_options_fail_at_construction(self):
        with self.assertRaisesRegex(ValueError, "cert_file and key_file"):
            gg.Client(cert_file=CERT)
        with self.assertRaisesRegex(OSError, "nope.pem"):
            gg.Client(ca_file="/nonexistent/nope.pem")
        with self.assertRaisesRegex(ValueError, "tls=False with ca_file"):
            gg.Client(tls=False, ca_file=CA)
        with self.assertRaisesRegex(ValueError, "not both"):
            gg.Client(caller_token="x", metadata=[("authorization", "y")])


@unittest.skipUnless(MODE == "mtls", "needs with_live_gateway.sh --mtls")
class MutualTlsTest(unittest.TestCase):
    def test_the_environment_alone_presents_the_client_certificate(self):
        with gg.Client(timeout=20) as gw:
            self.assertEqual(gw.get_json("/projects/42")["id"], 42)

    def test_the_certificate_identifies_the_caller_without_a_bearer(self):
        with without_gateway_env(), gg.Client(
                TARGET, ca_file=CA, cert_file=CERT, key_file=KEY,
                timeout=20) as gw:
            self.assertEqual(gw.get_json("/projects/42")["id"], 42)

    def test_without_a_client_certificate_the_handshake_fails(self):
        with gg.Client(cert_file="", key_file="", timeout=10) as gw:
            with self.assertRaises(gg.GatewayError) as caught:
                gw.get("/projects/42")
        self.assertEqual(caught.exception.code, grpc.StatusCode.UNAVAILABLE)


if __name__ == "__main__":
    unittest.main(verbosity=2)
