"""gitlab_gateway's download/download_to/upload (client/python) against a
live gateway + the demo GitLab (tests/client/demo_gitlab.h: the raw file
big.bin, 3 MiB + 12345 bytes, byte i = i % 251, and the generic package
registry that answers with the size and SHA-256 it received). Run by
run_client_test.sh (ctest client_python_transfers)."""
import hashlib
import io
import os
import tempfile
import unittest

import grpc

import gitlab_gateway as gg

BIG_SIZE = 3 * 1048576 + 12345
CHUNK = 1 << 20
BIG_FILE = gg.project_path(42, "repository/files/big.bin/raw")
MISSING_FILE = gg.project_path(42, "repository/files/missing.bin/raw")
TRUNCATED_FILE = gg.project_path(42, "repository/files/truncated.bin/raw")
PACKAGE = gg.project_path(42, "packages/generic/tool/1.0/tool.bin")


def big_bytes(size=BIG_SIZE):
    return (bytes(range(251)) * (size // 251 + 1))[:size]


class Reader(io.RawIOBase):
    """A binary stream that records each read's size: proves upload reads
    a file piece by piece, never whole."""

    def __init__(self, data):
        self._data = io.BytesIO(data)
        self.reads = []

    def readable(self):
        return True

    def readinto(self, buffer):
        self.reads.append(len(buffer))
        return self._data.readinto(buffer)


class TransfersTest(unittest.TestCase):
    def setUp(self):
        self.gw = gg.Client(os.environ["GITLAB_GATEWAY_TARGET"], timeout=20,
                            stream_timeout=60)
        self.expected = big_bytes()

    def tearDown(self):
        self.gw.close()

    def test_download_streams_the_body_byte_exact_in_chunks(self):
        with self.gw.download(BIG_FILE) as body:
            self.assertIsInstance(body, gg.Download)
            self.assertEqual(body.status_code, 200)
            self.assertEqual(body.header("CONTENT-TYPE"),
                             "application/octet-stream")
            self.assertIn(("Content-Type", "application/octet-stream"),
                          body.headers)
            chunks = list(body)
        self.assertGreaterEqual(len(chunks), 4)
        self.assertTrue(all(len(c) <= CHUNK for c in chunks))
        self.assertEqual(b"".join(chunks), self.expected)

    def test_download_to_a_file_name_and_a_file_object(self):
        with tempfile.TemporaryDirectory() as tmp:
            name = os.path.join(tmp, "big.bin")
            head = self.gw.download_to(BIG_FILE, name)
            self.assertEqual(head.status_code, 200)
            with open(name, "rb") as f:
                self.assertEqual(f.read(), self.expected)
        out = io.BytesIO()
        self.gw.download_to(BIG_FILE, out)
        self.assertEqual(out.getvalue(), self.expected)

    def test_download_of_a_missing_file_raises_not_found(self):
        with self.assertRaises(gg.GitlabNotFoundError) as caught:
            self.gw.download(MISSING_FILE)
        self.assertEqual(caught.exception.response_code, 404)
        self.assertEqual(caught.exception.error_message, "404 File Not Found")
        self.assertEqual(caught.exception.code, grpc.StatusCode.NOT_FOUND)
        with tempfile.TemporaryDirectory() as tmp:
            name = os.path.join(tmp, "missing.bin")
            with self.assertRaises(gg.GitlabNotFoundError):
                self.gw.download_to(MISSING_FILE, name)
            self.assertFalse(os.path.exists(name))

    def test_a_transfer_breaking_mid_body_raises_never_ends_short(self):
        # 2 MiB + 5 of 2 MiB + 6 bytes, then the demo GitLab closes.
        with self.assertRaises(gg.GatewayError) as caught:
            with self.gw.download(TRUNCATED_FILE) as body:
                self.assertEqual(body.status_code, 200)
                for _ in body:
                    pass
        self.assertEqual(caught.exception.code, grpc.StatusCode.UNAVAILABLE)
        with tempfile.TemporaryDirectory() as tmp:
            name = os.path.join(tmp, "truncated.bin")
            with self.assertRaises(gg.GatewayError):
                self.gw.download_to(TRUNCATED_FILE, name)
            self.assertFalse(os.path.exists(name))

    def test_closing_a_download_early_leaves_the_client_usable(self):
        with self.gw.download(BIG_FILE) as body:
            first = next(iter(body))
        self.assertEqual(first, self.expected[:len(first)])
        self.assertEqual(self.gw.get("/projects/42").status_code, 200)

    def assert_arrived(self, response, size):
        self.assertEqual(response.status_code, 201)
        echo = gg.json_body(response)
        self.assertEqual(echo["method"], "PUT")
        self.assertEqual(echo["size"], size)
        self.assertEqual(echo["sha256"],
                         hashlib.sha256(self.expected[:size]).hexdigest())
        self.assertEqual(echo["content_length"], str(size))
        self.assertEqual(echo["transfer_encoding"], "")
        return echo

    def test_upload_from_a_file_sends_its_size_and_bytes(self):
        with tempfile.TemporaryDirectory() as tmp:
            name = os.path.join(tmp, "tool.bin")
            with open(name, "wb") as f:
                f.write(self.expected)
            with open(name, "rb") as f:
                response = self.gw.upload(
                    PACKAGE, f, content_type="application/octet-stream")
        echo = self.assert_arrived(response, BIG_SIZE)
        self.assertEqual(echo["content_type"], "application/octet-stream")

    def test_upload_reads_a_stream_piece_by_piece(self):
        reader = Reader(self.expected)
        response = self.gw.upload(PACKAGE, io.BufferedReader(reader, 4096),
                                  size=BIG_SIZE, chunk_size=256 * 1024)
        self.assert_arrived(response, BIG_SIZE)
        # No read asked for the whole body.
        self.assertGreater(len(reader.reads), 12)
        self.assertLessEqual(max(reader.reads), 256 * 1024)

    def test_upload_from_a_generator_and_from_bytes(self):
        def pieces():
            for start in range(0, BIG_SIZE, 700_000):
                yield self.expected[start:start + 700_000]

        self.assert_arrived(self.gw.upload(PACKAGE, pieces(), size=BIG_SIZE),
                            BIG_SIZE)
        self.assert_arrived(self.gw.upload(PACKAGE, self.expected[:5000]),
                            5000)
        # A Request without method is sent with PUT.
        self.assert_arrived(self.gw.upload(gg.make_request(PACKAGE),
                                           self.expected[:10]), 10)

    def test_upload_content_type_replaces_the_one_of_the_headers(self):
        plain = {"Content-Type": "text/plain"}
        for request, kwargs in (
                (PACKAGE, {"headers": {"content-type": "text/plain"}}),
                ({"path": PACKAGE, "headers": plain}, {}),
                (gg.make_request(PACKAGE, "POST", headers=plain), {})):
            echo = gg.json_body(self.gw.upload(
                request, b"x" * 10, content_type="application/x-tar",
                **kwargs))
            self.assertEqual(echo["content_type"], "application/x-tar")
            self.assertEqual(echo["size"], 10)
        # Without content_type the headers' own is sent.
        echo = gg.json_body(self.gw.upload(
            PACKAGE, b"x", headers={"Content-Type": "text/plain"}))
        self.assertEqual(echo["content_type"], "text/plain")

    def test_upload_takes_a_dict_request_as_execute_does(self):
        echo = gg.json_body(self.gw.upload(
            {"path": PACKAGE, "method": "post"}, self.expected[:7]))
        self.assertEqual(echo["method"], "POST")
        self.assertEqual(echo["size"], 7)
        echo = gg.json_body(self.gw.upload({"path": PACKAGE}, b"abc"))
        self.assertEqual(echo["method"], "PUT")

    def test_upload_of_unknown_size_is_sent_chunked(self):
        # The demo GitLab refuses chunked request bodies with 411 (as
        # tests/server/upload_test.cc relies on): GitLab's answer shows the
        # gateway sent the generator's body chunked, and arrives typed.
        with self.assertRaises(gg.GitlabHttpError) as caught:
            self.gw.upload(PACKAGE, iter([b"a" * 1000, b"b" * 1000]))
        self.assertEqual(caught.exception.response_code, 411)

    def test_upload_errors_are_typed(self):
        with self.assertRaises(gg.GitlabNotFoundError) as caught:
            self.gw.upload(gg.project_path(7, "packages/generic/t/1/t.bin"),
                           io.BytesIO(b"x" * 100))
        self.assertEqual(caught.exception.response_code, 404)
        # A body shorter than the size announced: refused by the gateway.
        with self.assertRaises(gg.GatewayError) as caught:
            self.gw.upload(PACKAGE, [b"x" * 10], size=20)
        self.assertEqual(caught.exception.code,
                         grpc.StatusCode.INVALID_ARGUMENT)

    def test_a_failing_source_raises_its_own_error(self):
        def pieces():
            yield b"x" * 1000
            raise OSError("disk gone")

        with self.assertRaisesRegex(OSError, "disk gone"):
            self.gw.upload(PACKAGE, pieces())
        with tempfile.TemporaryFile("w+") as text:
            text.write("not bytes")
            text.seek(0)
            with self.assertRaisesRegex(TypeError, "text mode"):
                self.gw.upload(PACKAGE, text)
        with self.assertRaisesRegex(ValueError, "chunk_size"):
            self.gw.upload(PACKAGE, b"x", chunk_size=0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
