"""HTTP keywords (§9.7) and the HTTP service against a real local aiohttp server: GET of
URLs and API paths, POST/PUT/PATCH/DELETE HTTP envelopes, SET HEADER / CLEAR HEADERS,
GRAPHQL, SOAP, the egress policy, redirects, timeouts and the size limit."""
from __future__ import annotations

import asyncio
import ipaddress
import json
import socket
from types import SimpleNamespace

import pytest
from aiohttp.abc import AbstractResolver

from botbasic.runtime.config import parse_config_text
from botbasic.runtime.errors import BasicError
from botbasic.runtime.memory_store import InMemoryStore
from botbasic.runtime.services.http import (EgressBlocked, EgressPolicy, HttpResult, HttpService,
                                            address_problem)

from http_support import local_server
from vm_support import run_script, says


@pytest.fixture(scope="module")
def http_server():
    with local_server() as server:
        yield server


def services(allow: str = "127.0.0.1", **settings) -> SimpleNamespace:
    """Engine services whose HTTP egress policy allows the local test server."""
    http = HttpService(policy=EgressPolicy.from_setting(allow), **settings)
    return SimpleNamespace(memory=InMemoryStore(), http=http)


def run(source: str, **kwargs):
    kwargs.setdefault("services", services())
    return run_script(source, **kwargs)


def talk(source: str, **kwargs) -> list[str]:
    kwargs.setdefault("services", services())
    return says(source, **kwargs)


def echoed(message: str) -> dict:
    return json.loads(message)


# ---------------------------------------------------------------- GET


def test_get_parses_json_and_keeps_text(http_server):
    source = (f'r = GET "{http_server.url("/json")}"\nTALK r.name\nTALK r.items[1]\n'
              f'TALK GET("{http_server.url("/text")}")\n'
              f'n = GET "{http_server.url("/number")}"\nTALK TYPEOF(n) + " " + n')
    assert talk(source) == ["Ann", "2", "hello", "string 0042"]


def test_get_url_built_from_parts_and_query_arguments(http_server):
    source = (f'host = "{http_server.base}"\npage = 2\nq = "a b"\n'
              'r = GET host + "/echo" WITH page, q\nTALK r.query\n'
              'r = GET host + "/echo", #{x: 1}\nTALK r.query.x')
    assert talk(source) == ['{"page":"2","q":"a b"}', "1"]


def test_get_error_status_raises_a_trappable_error(http_server):
    url = http_server.url("/status/404")
    assert run(f'x = GET "{url}"').error == "main.bas:1: error: HTTP 404: failure 404"
    trapped = talk(f'ON ERROR RESUME NEXT\nx = GET "{url}"\nTALK ERR_DESCRIPTION()')
    assert trapped == ["HTTP 404: failure 404"]


def test_get_follows_redirects_on_an_allowed_host(http_server):
    url = http_server.url("/redirect?to=/json")
    assert talk(f'r = GET "{url}"\nTALK r.name') == ["Ann"]


def test_get_without_the_http_service():
    transcript = run('x = GET "https://api.example.com/x"',
                     services=SimpleNamespace(memory=InMemoryStore()))
    assert transcript.error == "main.bas:1: error: GET of a URL is not available in this version"


def test_get_of_an_api_path_without_a_host_api_is_404():
    transcript = run('x = GET "/api/attendance/queue?status=waiting"')
    assert transcript.error.startswith("main.bas:1: error: HTTP 404: ")
    assert talk('r = POST "/api/crm/leads", #{a: 1}\nTALK r.status') == ["404"]


@pytest.mark.parametrize("target, message", [
    ("//evil.example/x", "neither a URL nor a path of the bot server API"),
    ("ftp://files.example/x", "only http:// and https://"),
])
def test_targets_that_are_neither_urls_nor_api_paths(target, message):
    assert message in run(f'r = POST "{target}", "x"').error


class RecordingHostApi:
    """A host's REST API as the host would provide it: records calls, answers JSON."""

    def __init__(self):
        self.calls = []

    async def request(self, method, path, *, headers, body, session):
        self.calls.append((method, path, dict(headers), body, session.session_id))
        data = json.dumps({"path": path, "waiting": 3}).encode()
        return HttpResult(200, "OK", {"Content-Type": "application/json"}, data, path)


def test_get_and_post_of_api_paths_go_to_the_host_api():
    api = RecordingHostApi()
    svc = SimpleNamespace(memory=InMemoryStore(), host_api=api)
    source = ('SET HEADER "X-Trace", "t1"\nq = GET "/api/attendance/queue" WITH status\n'
              'TALK q.waiting\nr = POST "/api/crm/leads", #{name: "Ann"}\nTALK r.status')
    assert talk(source, services=svc, variables={"status": "waiting"}) == ["3", "200"]
    (m1, p1, h1, b1, sid), (m2, p2, _, b2, _) = api.calls
    assert (m1, p1, b1, sid) == ("GET", "/api/attendance/queue?status=waiting", None, "s1")
    assert h1["X-Trace"] == "t1"
    assert (m2, p2, json.loads(b2)) == ("POST", "/api/crm/leads", {"name": "Ann"})


# ---------------------------------------------------------------- POST, PUT, PATCH, DELETE


def test_post_object_sends_json_and_returns_the_envelope(http_server):
    source = (f'r = POST "{http_server.url("/echo")}", #{{name: "Ann", n: 2}}\n'
              'TALK r.status\nTALK r.statusText\nTALK r.headers["content-type"]\n'
              'TALK r.data.method\nTALK r.method\nTALK r.content_type\nTALK r.body')
    assert talk(source) == ["200", "OK", "application/json; charset=utf-8", "POST", "POST",
                            "application/json", '{"name":"Ann","n":2}']


def test_post_text_body_content_type_and_no_body(http_server):
    url = http_server.url("/echo")
    source = (f'r = POST "{url}", "plain"\nTALK r.content_type + "|" + r.body\n'
              f'r = POST "{url}", "<a/>", "application/xml"\nTALK r.content_type + "|" + r.body\n'
              f'SET HEADER "Content-Type", "text/csv"\nr = POST "{url}", "a,b"\nTALK r.content_type\n'
              f'r = POST "{url}"\nTALK "[" + r.body + "]"')
    assert talk(source) == ["text/plain; charset=utf-8|plain", "application/xml|<a/>",
                            "text/csv", "[]"]


def test_put_patch_and_delete_http(http_server):
    url = http_server.url("/echo")
    source = (f'r = PUT "{url}", #{{a: 1}}\nTALK r.method + " " + r.body\n'
              f'r = PATCH "{url}", [1, 2]\nTALK r.method + " " + r.body\n'
              f'r = DELETE HTTP "{url}?id=7"\nTALK r.method + " " + r.query.id\n'
              f'a = 1\nb = "x"\nr = PUT "{url}" WITH a, b\nTALK r.body')
    assert talk(source) == ["PUT {\"a\":1}", "PATCH [1,2]", "DELETE 7", '{"a":1,"b":"x"}']


def test_post_with_name_equals_value_pairs_is_a_clear_error(http_server):
    transcript = run(f'r = POST "{http_server.url("/echo")}" WITH a = 1, b = 2')
    assert "WITH name = value is not available" in transcript.error


def test_error_statuses_do_not_raise_for_the_envelope_keywords(http_server):
    source = (f'r = POST "{http_server.url("/status/500")}", "x"\nTALK r.status\nTALK r.data\n'
              f'r = DELETE HTTP "{http_server.url("/status/404")}"\nTALK r.status')
    assert talk(source) == ["500", "failure 500", "404"]


def test_envelope_survives_a_saved_conversation(http_server):
    source = (f'r = POST "{http_server.url("/echo")}", #{{id: 9}}\nHEAR x\n'
              'TALK r.status\nTALK r.data.body')
    transcript = run(source, answers=["go"], save=True)
    assert transcript.messages == ["200", '{"id":9}']


def test_http_keywords_without_the_service():
    transcript = run('r = POST "https://api.example.com/x", "a"',
                     services=SimpleNamespace(memory=InMemoryStore()))
    assert transcript.error == "main.bas:1: error: HTTP is not available in this version"


# ---------------------------------------------------------------- SET HEADER / CLEAR HEADERS


def test_set_header_forms_apply_to_get_and_post(http_server):
    url = http_server.url("/echo")
    source = ('SET HEADER "Authorization", "Bearer t"\nSET HEADER "X-A" AS "1"\n'
              'SET HEADER "X-B" = "2"\nset header "x-a", "3"\n'
              f'r = GET "{url}"\nTALK r.headers.Authorization + r.headers["X-A"] + r.headers["X-B"]\n'
              'SET HEADER "X-B", ""\n'
              f'r = POST "{url}", "x"\nTALK ISNULL(r.data.headers["X-B"])\nTALK r.data.headers["X-A"]\n'
              f'CLEAR HEADERS\nr = GET "{url}"\nTALK ISNULL(r.headers.Authorization)')
    assert talk(source) == ["Bearer t32", "true", "3", "true"]


def test_headers_are_kept_with_the_session_data():
    transcript = run('SET HEADER "X-Key", "k"\nSET HEADER "x-key", "v"')
    assert transcript.ctx.session.headers == {"x-key": "v"}


@pytest.mark.parametrize("source", ['SET HEADER "Bad Name", "x"',
                                    'SET HEADER "X-A", "a" + CHR(10) + "Evil: 1"'])
def test_set_header_refuses_injection(source):
    assert "SET HEADER" in run(source).error


# ---------------------------------------------------------------- GRAPHQL and SOAP


def test_graphql_posts_query_and_variables(http_server):
    url = http_server.url("/echo")
    source = (f'r = GRAPHQL "{url}", "query {{ user(id: $id) {{ name }} }}", #{{id: 7}}\n'
              'b = JSON PARSE r.body\nTALK b.variables.id\nTALK r.content_type\n'
              f'v = #{{k: "x"}}\nr = GRAPHQL "{url}", "{{ a }}" WITH v\nTALK r.body')
    assert talk(source) == ["7", "application/json", '{"query":"{ a }","variables":{"k":"x"}}']


def test_soap_builds_the_envelope_and_splits_the_response(http_server):
    source = (f'r = SOAP "{http_server.url("/soap")}", "GetStock", #{{sku: "a<b", n: [1, 2]}}\n'
              'TALK r.status\nTALK r.data.raw\nTALK INSTR(r.data.xml, "soap:Envelope") > 0')
    raw = ('<Result action="&quot;GetStock&quot;"><GetStock xmlns="http://tempuri.org/">'
           '<sku>a&lt;b</sku><n>1</n><n>2</n></GetStock></Result>').replace("&quot;", '\\"')
    assert talk(source) == ["200", raw, "true"]


def test_soap_refuses_bad_element_names(http_server):
    transcript = run(f'r = SOAP "{http_server.url("/soap")}", "Get Stock", #{{}}')
    assert "cannot be an XML element name" in transcript.error


# ---------------------------------------------------------------- egress policy


def test_loopback_is_refused_by_default(http_server):
    transcript = run(f'x = GET "{http_server.url("/json")}"', services=services(allow=""))
    assert transcript.error == ("main.bas:1: error: blocked by the egress policy: 127.0.0.1 "
                                "(loopback address 127.0.0.1); list it in http-allow-hosts "
                                "to allow it")


@pytest.mark.parametrize("allow", ["127.0.0.1", "127.0.0.0/8", "example.org, 127.0.0.0/24"])
def test_allow_hosts_lets_loopback_through(http_server, allow):
    assert talk(f'r = GET "{http_server.url("/json")}"\nTALK r.name',
                services=services(allow=allow)) == ["Ann"]


def test_allow_hosts_from_the_bot_config(http_server):
    config = parse_config_text("name,value\nhttp-allow-hosts,127.0.0.1\nhttp-max-bytes,100\n")
    service = HttpService.from_config(config)
    svc = SimpleNamespace(memory=InMemoryStore(), http=service)
    assert talk(f'TALK GET("{http_server.url("/text")}")', services=svc) == ["hello"]
    assert service.max_bytes == 100


@pytest.mark.parametrize("url, reason", [
    ("http://169.254.169.254/latest/meta-data/", "cloud metadata address 169.254.169.254"),
    ("http://metadata.google.internal/computeMetadata/v1/", "cloud metadata host"),
    ("http://localhost:1/", "loopback host"),
    ("http://10.1.2.3/", "private address 10.1.2.3"),
    ("http://172.16.0.1/", "private address 172.16.0.1"),
    ("http://192.168.1.1/", "private address 192.168.1.1"),
    ("http://[::1]/", "loopback address ::1"),
    ("http://[fe80::1]/", "link-local address fe80::1"),
    ("http://[fd00::1]/", "private address fd00::1"),
    ("http://0.0.0.0/", "unspecified address 0.0.0.0"),
    ("http://[::ffff:127.0.0.1]/", "loopback address ::ffff:7f00:1"),
])
def test_blocked_destinations(url, reason):
    transcript = run(f'x = GET "{url}"', services=services(allow=""))
    assert "blocked by the egress policy: " in transcript.error
    assert f"({reason})" in transcript.error


def test_metadata_address_is_refused_even_when_private_ranges_are_allowed():
    transcript = run('x = GET "http://169.254.169.254/"', services=services(allow="10.0.0.0/8"))
    assert "cloud metadata address" in transcript.error


def test_redirect_from_an_allowed_host_to_a_blocked_one_is_refused(http_server):
    for target in ("http://169.254.169.254/latest/", "http://10.0.0.1/admin"):
        url = http_server.url(f"/redirect?to={target}")
        transcript = run(f'x = GET "{url}"')
        assert "blocked by the egress policy" in transcript.error, target


class FakeDns(AbstractResolver):
    """Name resolution for made-up names (the outside DNS), answering fixed addresses."""

    def __init__(self, table: dict):
        self.table = table

    async def resolve(self, host, port=0, family=socket.AF_INET):
        return [{"hostname": host, "host": address, "port": port,
                 "family": socket.AF_INET6 if ":" in address else socket.AF_INET,
                 "proto": 0, "flags": socket.AI_NUMERICHOST} for address in self.table[host]]

    async def close(self):
        pass


def test_resolved_addresses_are_checked(http_server):
    dns = FakeDns({"api.test": ["127.0.0.1"], "mixed.test": ["93.184.216.34", "10.0.0.5"]})
    url = f"http://api.test:{http_server.port}/json"
    blocked = run(f'x = GET "{url}"', services=services(allow="", resolver=dns))
    assert "blocked by the egress policy: api.test (loopback address 127.0.0.1)" in blocked.error
    allowed = talk(f'r = GET "{url}"\nTALK r.name',
                   services=services(allow="127.0.0.1", resolver=dns))
    assert allowed == ["Ann"]
    by_name = talk(f'r = GET "{url}"\nTALK r.name', services=services(allow="*.test", resolver=dns))
    assert by_name == ["Ann"]
    mixed = run('x = GET "http://mixed.test/"', services=services(allow="", resolver=dns))
    assert "private address 10.0.0.5" in mixed.error


def test_credentials_do_not_follow_a_redirect_to_another_host(http_server):
    dns = FakeDns({"other.test": ["127.0.0.1"]})
    target = f"http://other.test:{http_server.port}/echo"
    source = (f'SET HEADER "Authorization", "secret"\nSET HEADER "X-Keep", "1"\n'
              f'r = GET "{http_server.url("/redirect?to=" + target)}"\n'
              'TALK ISNULL(r.headers.Authorization)\nTALK r.headers["X-Keep"]')
    assert talk(source, services=services(allow="127.0.0.1", resolver=dns)) == ["true", "1"]


def test_address_classification():
    public = ["93.184.216.34", "2606:4700::1111", "8.8.8.8"]
    assert [address_problem(ipaddress.ip_address(a)) for a in public] == [None] * 3
    assert address_problem(ipaddress.ip_address("100.64.0.1")) == "not a public address"
    assert address_problem(ipaddress.ip_address("224.0.0.1")) == "multicast address"


def test_policy_parsing():
    policy = EgressPolicy.from_setting(" api.local ; 10.0.0.0/8, ::1, *.corp.example ")
    assert policy.host_allowed("API.local.") and policy.host_allowed("x.corp.example")
    assert not policy.host_allowed("corp.example.evil")
    policy.check_addresses("x", [ipaddress.ip_address("10.9.9.9"), ipaddress.ip_address("::1")])
    with pytest.raises(EgressBlocked):
        policy.check_addresses("x", [ipaddress.ip_address("192.168.0.1")])


def test_only_http_urls_are_fetched():
    async def attempt():
        await HttpService().request("GET", "file:///etc/passwd")

    with pytest.raises(BasicError, match="only http:// and https://"):
        asyncio.run(attempt())


# ---------------------------------------------------------------- limits


def test_timeout_from_the_configuration(http_server):
    transcript = run(f'x = GET "{http_server.url("/slow?secs=1")}"',
                     services=services(timeout=0.2))
    assert transcript.error.endswith("timed out after 0.2 s")


@pytest.mark.parametrize("chunked", ["0", "1"])
def test_response_size_limit(http_server, chunked):
    url = http_server.url(f"/big?size=5000&chunked={chunked}")
    transcript = run(f'x = GET "{url}"', services=services(max_bytes=1000))
    assert "is larger than 1000 bytes (http-max-bytes)" in transcript.error
    assert talk(f'x = GET "{url}"\nTALK LEN(x)', services=services(max_bytes=5000)) == ["5000"]


def test_too_many_redirects(http_server):
    loop = http_server.url("/redirect?to=/redirect%3Fto%3D/json")
    transcript = run(f'x = GET "{loop}"', services=services(max_redirects=1))
    assert "more than 1 redirects" in transcript.error


def test_connection_failure_is_a_runtime_error():
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    transcript = run(f'x = GET "http://127.0.0.1:{port}/"')
    assert transcript.error.startswith(f"main.bas:1: error: HTTP GET http://127.0.0.1:{port}/ failed")
