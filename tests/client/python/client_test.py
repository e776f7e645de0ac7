"""gitlab_gateway (client/python) against a live gateway + the demo GitLab
(tests/client/demo_gitlab.h). Run by run_python_client_test.sh with the
package installed from client/python into a fresh venv, as a user would."""
import os
import tempfile
import threading
import unittest
from unittest import mock

import gitlab_gateway as gg


class ClientTest(unittest.TestCase):
    def setUp(self):
        self.gw = gg.Client(os.environ["GITLAB_GATEWAY_TARGET"], timeout=20,
                            stream_timeout=60)

    def tearDown(self):
        self.gw.close()

    def test_execute_returns_the_response(self):
        response = self.gw.get("/projects/42")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(gg.json_body(response)["name"], "demo")
        self.assertEqual(response.attempts, 1)

    def test_project_path_encodes_slashes(self):
        self.assertEqual(gg.project_path("group/sub/demo"),
                         "/projects/group%2Fsub%2Fdemo")
        self.assertEqual(gg.project_path(42, "issues"), "/projects/42/issues")
        self.assertEqual(gg.group_path("a/b", "members"),
                         "/groups/a%2Fb/members")
        self.assertEqual(self.gw.get_json(gg.project_path("group/demo"))["id"],
                         42)

    def test_query_headers_body_and_credentials_reach_gitlab(self):
        echo = gg.json_body(self.gw.post(
            "/echo", query={"labels[]": ["a", "b"], "x": 1},
            headers={"X-Demo": "hi"}, json={"k": "v"}, sudo="alice",
            credentials={"job_token": "jt"}))
        self.assertEqual(echo["method"], "POST")
        self.assertEqual(echo["query"], "labels%5B%5D=a&labels%5B%5D=b&x=1")
        self.assertEqual(echo["x_demo"], "hi")
        self.assertEqual(echo["body"], '{"k": "v"}')
        self.assertEqual(echo["sudo"], "alice")
        self.assertEqual(echo["job_token"], "jt")

    def test_client_default_token_applies_unless_the_request_sets_one(self):
        with gg.Client(self.gw.target, private_token="mine") as gw:
            self.assertEqual(gw.get_json("/echo")["private_token"], "mine")
            echo = gw.get_json("/echo", credentials={"oauth_token": "o"})
            self.assertEqual(echo["private_token"], "")
            self.assertEqual(echo["authorization"], "Bearer o")
        # The gateway's own credential when the client sets none.
        self.assertEqual(self.gw.get_json("/echo")["private_token"],
                         "live-gateway-token")

    def test_not_found_is_typed(self):
        with self.assertRaises(gg.GitlabNotFoundError) as caught:
            self.gw.get("/projects/7")
        error = caught.exception
        self.assertIsInstance(error, gg.GitlabHttpError)
        self.assertIsInstance(error, gg.GitlabGetError)
        self.assertEqual(error.response_code, 404)
        self.assertIn("Project Not Found", error.error_message)
        self.assertEqual(error.reason, "GITLAB_NOT_FOUND")
        self.assertEqual(error.code.name, "NOT_FOUND")
        self.assertEqual(error.details["resource_info"][0].resource_type,
                         "projects")

    def test_authentication_error(self):
        with self.assertRaises(gg.GitlabAuthenticationError) as caught:
            self.gw.get("/user", credentials={"private_token": "revoked"})
        self.assertEqual(caught.exception.response_code, 401)
        self.assertIn("401 Unauthorized", caught.exception.error_message)

    def test_rate_limited_carries_retry_after(self):
        with self.assertRaises(gg.GitlabRateLimitError) as caught:
            self.gw.get("/rate_limited",
                        credentials={"private_token": "limited-token"})
        error = caught.exception
        self.assertEqual(error.response_code, 429)
        self.assertIsNotNone(error.retry_after)
        self.assertGreater(error.retry_after, 3000)

    def test_bad_request_names_the_field(self):
        with self.assertRaises(gg.GitlabBadRequestError) as caught:
            self.gw.post("/projects", json={"description": "x"})
        self.assertEqual(caught.exception.response_code, 400)
        self.assertEqual(caught.exception.field_violations,
                         {"name": "can't be blank"})

    def test_gateway_refusal_is_a_gateway_error(self):
        with self.assertRaises(gg.GatewayError) as caught:
            self.gw.get("/projects/../admin")
        self.assertEqual(caught.exception.reason, "INVALID_PATH")
        self.assertIsNone(caught.exception.response_code)
        self.assertIn("path", caught.exception.field_violations)

    def test_batch_streams_lazily_and_answers_each_item(self):
        requests = [
            gg.Request(id="project", path="/projects/42"),
            {"id": "missing", "path": "/projects/7"},
            {"id": "created", "method": "POST", "path": "/projects",
             "json": {"name": "new"}},
        ]
        responses = {r.id: r for r in self.gw.batch(iter(requests))}
        self.assertEqual(sorted(responses), ["created", "missing", "project"])
        self.assertEqual(responses["project"].status_code, 200)
        self.assertEqual(responses["created"].status_code, 201)
        with self.assertRaises(gg.GitlabNotFoundError):
            gg.raise_for_error(responses["missing"])
        self.assertIs(gg.raise_for_error(responses["project"]),
                      responses["project"])

    def test_batch_sends_while_answers_arrive(self):
        # A generator that only yields its second request once the first
        # answer arrived: a client that drained the iterator first would hang.
        first_answered = threading.Event()

        def requests():
            yield gg.Request(id="1", path="/projects/42")
            self.assertTrue(first_answered.wait(20))
            yield gg.Request(id="2", path="/projects/42")

        ids = []
        for response in self.gw.batch(requests()):
            ids.append(response.id)
            first_answered.set()
        self.assertEqual(ids, ["1", "2"])

    def test_batch_input_errors_surface_as_themselves(self):
        def requests():
            yield gg.Request(id="1", path="/projects/42")
            raise KeyError("caller's bug")

        with self.assertRaises(KeyError):
            list(self.gw.batch(requests()))
        with self.assertRaises(ValueError):  # not a Request field
            list(self.gw.batch([{"path": "/x", "no_such_field": 1}]))

    def test_batch_raise_errors(self):
        with self.assertRaises(gg.GitlabNotFoundError):
            list(self.gw.batch([{"id": "m", "path": "/projects/7"}],
                               raise_errors=True))

    def test_paginate_items_and_pages(self):
        items = list(self.gw.paginate("/projects/42/issues"))
        self.assertEqual([i["iid"] for i in items], [1, 2, 3, 4, 5, 6])
        pages = list(self.gw.paginate(gg.project_path("group/demo", "issues"),
                                      pages=True))
        self.assertEqual([p.page.page for p in pages], [1, 2, 3])
        self.assertEqual(pages[0].page.total, 6)
        two = list(self.gw.paginate("/projects/42/issues", max_pages=2))
        self.assertEqual(len(two), 4)

    def test_paginate_error_raises_typed(self):
        with self.assertRaises(gg.GitlabNotFoundError):
            list(self.gw.paginate("/projects/7/issues"))

    def test_unknown_request_field_is_refused_by_the_message(self):
        # Keywords are Request fields: a new field needs no client change,
        # and a misspelt one fails loudly.
        with self.assertRaises(ValueError):
            gg.make_request("/x", no_such_field=1)

    def test_unreachable_gateway_is_a_gateway_error(self):
        with gg.Client("127.0.0.1:1", timeout=5) as gw:
            with self.assertRaises(gg.GatewayError) as caught:
                gw.get("/projects/42")
        self.assertEqual(caught.exception.code.name, "UNAVAILABLE")


class ConstructorChecksTest(unittest.TestCase):
    """Refusals of the constructor: before any channel exists, and never
    showing the caller token."""

    SECRET = "SECRET-d0d0"

    def setUp(self):
        saved = os.environ.pop("GITLAB_GATEWAY_CALLER_TOKEN", None)
        if saved is not None:
            self.addCleanup(os.environ.__setitem__,
                            "GITLAB_GATEWAY_CALLER_TOKEN", saved)

    def assert_refused(self, want, **kwargs):
        with mock.patch("grpc.insecure_channel") as insecure, \
                mock.patch("grpc.secure_channel") as secure:
            with self.assertRaises(ValueError) as caught:
                gg.Client("127.0.0.1:1", **kwargs)
        self.assertIn(want, str(caught.exception))
        self.assertNotIn(self.SECRET, str(caught.exception))
        insecure.assert_not_called()
        secure.assert_not_called()

    def test_a_caller_token_metadata_cannot_carry_is_refused_unshown(self):
        for token in (f"a\t{self.SECRET}", f"{self.SECRET}\nx",
                      f"{self.SECRET}\u00e9"):
            self.assert_refused("caller_token", caller_token=token)
        os.environ["GITLAB_GATEWAY_CALLER_TOKEN"] = f"{self.SECRET}\tx"
        try:
            self.assert_refused("GITLAB_GATEWAY_CALLER_TOKEN")
        finally:
            del os.environ["GITLAB_GATEWAY_CALLER_TOKEN"]
        # Surrounding whitespace (a file's newline) is trimmed, not refused.
        with gg.Client("127.0.0.1:1", caller_token=f" {self.SECRET}\n") as gw:
            self.assertIn(("authorization", f"Bearer {self.SECRET}"),
                          gw._metadata)

    def test_conflicting_options_open_no_channel(self):
        self.assert_refused("not both", caller_token=self.SECRET,
                            metadata=[("authorization", "Bearer x")])
        self.assert_refused("at most one", private_token="a", job_token="b")
        self.assert_refused("go together", cert_file="/c.pem")

    def test_a_ca_file_that_is_not_pem_is_refused_naming_it(self):
        with tempfile.NamedTemporaryFile(suffix="-not-a-ca.pem") as f:
            f.write(b"not a certificate\n")
            f.flush()
            self.assert_refused(f.name, ca_file=f.name)


if __name__ == "__main__":
    unittest.main(verbosity=2)
