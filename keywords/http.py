"""HTTP keywords (DIALECT §9.7): GET of URLs and of the bot server API, POST, PUT, PATCH,
DELETE HTTP, GRAPHQL, SOAP, SET HEADER and CLEAR HEADERS.

Requests go through ``ctx.service("http")`` (runtime/services/http.py: egress policy,
timeouts, size limit); paths starting with ``/`` go to the host's own REST API,
``ctx.service("host_api")``, an object with
``async request(method, path, *, headers, body, session) -> HttpResult`` — without one
they answer 404 (§9.7.1 rule 2).

GET of a URL returns the parsed body and raises on a non-2xx status; the other keywords
return an ``HttpResponse`` envelope ``{status, statusText, headers, data}`` and never raise
for a status (A-5). The headers set with SET HEADER live in ``ctx.session.headers`` and are
sent by every HTTP keyword, GET included (A-50), until CLEAR HEADERS.

GET itself belongs to the memory family, which dispatches on the target; this module
registers the URL and API targets with it (``memory.register_get_target``).
"""
from __future__ import annotations

import re
from typing import Optional
from xml.sax.saxutils import escape

from yarl import URL

from ..interpreter import nodes as N
from ..runtime.errors import BasicError
from ..runtime.services.http import HttpResult
from ..runtime.values import BasicObject, HttpResponse, from_json, json_view, to_json, to_str
from .calls import ArgValue, KeywordCall, assignment_form
from .memory import register_get_target
from .registry import keyword

# Default timeouts of §9.7 (``http-timeout-secs`` replaces them).
GET_TIMEOUT = 30.0
SEND_TIMEOUT = 60.0
SOAP_TIMEOUT = 120.0

JSON_TYPE = "application/json"
TEXT_TYPE = "text/plain; charset=utf-8"
SOAP_NAMESPACE = "http://tempuri.org/"
_ERROR_BODY_CHARS = 500
_XML_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")
_SOAP_BODY = re.compile(r"<(?:[\w.-]+:)?Body\b[^>]*>(.*)</(?:[\w.-]+:)?Body\s*>", re.DOTALL)


# ---------------------------------------------------------------- sending


def http_service(ctx, what: str = "HTTP"):
    """The HTTP service; without one, the error "<what> is not available ..."."""
    service = ctx.service("http")
    if service is None:
        raise BasicError(f"{what} is not available in this version")
    return service


async def send(ctx, method: str, url: str, *, body: Optional[bytes] = None,
               headers: Optional[dict] = None, params: Optional[dict] = None,
               timeout: float = SEND_TIMEOUT, what: str = "HTTP") -> HttpResult:
    """Send a request with the execution's headers (then ``headers``) to a URL or, for a
    path starting with ``/``, to the host API."""
    all_headers = merge_headers(ctx.session.headers, headers or {})
    if url.startswith("/"):
        return await _host_api(ctx, method, url, all_headers, body, params)
    return await http_service(ctx, what).request(method, url, headers=all_headers, body=body,
                                                 params=params, timeout=timeout)


async def _host_api(ctx, method: str, path: str, headers: dict, body, params) -> HttpResult:
    """§9.7.1 rule 2: the bot server's own REST API, or 404 when the host has none."""
    if path.startswith("//"):  # a scheme-relative URL, not a path of this server
        raise BasicError(f"'{path}' is neither a URL nor a path of the bot server API")
    if params:
        path = str(URL(path).update_query({k: str(v) for k, v in params.items()}))
    api = ctx.service("host_api")
    if api is None:
        message = to_json({"error": f"no API at {path} on this server"}).encode("utf-8")
        return HttpResult(404, "Not Found", {"Content-Type": JSON_TYPE}, message, path)
    return await api.request(method, path, headers=headers, body=body, session=ctx.session)


def parse_body(result: HttpResult):
    """A response body as a value: parsed JSON when the content type says JSON (or the
    text is an object or array), else the text. Other text stays text — an id such as
    ``"0042"`` must not turn into a number."""
    text = result.text()
    looks_like_json = "json" in result.content_type or text.lstrip()[:1] in ("{", "[")
    if looks_like_json and text.strip():
        try:
            return from_json(text)
        except BasicError:
            return text
    return text


def envelope(result: HttpResult) -> HttpResponse:
    """The response object of §9.7.2."""
    return HttpResponse(status=result.status, status_text=result.reason,
                        headers=result.headers, data=parse_body(result))


def raise_for_status(result: HttpResult) -> None:
    """GET's rule: a non-2xx status is the error ``HTTP <status>: <body>``."""
    if not result.ok:
        body = result.text().strip()
        if len(body) > _ERROR_BODY_CHARS:
            body = body[:_ERROR_BODY_CHARS] + "..."
        raise BasicError(f"HTTP {result.status}: {body or result.reason}")


async def http_get(ctx, url: str, params: Optional[dict] = None):
    """GET of a URL or API path: the parsed body; an error for a non-2xx status."""
    result = await send(ctx, "GET", url, params=params, timeout=GET_TIMEOUT,
                        what="GET of a URL")
    raise_for_status(result)
    return parse_body(result)


async def http_envelope(ctx, method: str, url: str, body=None,
                        content_type: Optional[str] = None) -> HttpResponse:
    """POST/PUT/PATCH/DELETE a value and return the response object (for other families
    too: ``DELETE "https://..."`` of §9.6.7)."""
    data, headers = encode_body(ctx, body, content_type)
    return envelope(await send(ctx, method, url, body=data, headers=headers))


def encode_body(ctx, body, content_type: Optional[str] = None) -> tuple[Optional[bytes], dict]:
    """The bytes of a request body and the content type they need (§9.7.2): objects and
    arrays as JSON, text as is (SET HEADER's content type, else text/plain), NULL empty."""
    if body is None:
        return None, ({"Content-Type": content_type} if content_type else {})
    if isinstance(body, (dict, list)):
        data, default_type = to_json(body).encode("utf-8"), JSON_TYPE
    else:
        data, default_type = to_str(body).encode("utf-8"), TEXT_TYPE
    if content_type:
        return data, {"Content-Type": content_type}
    if _header_name(ctx.session.headers, "content-type") is not None:
        return data, {}
    return data, {"Content-Type": default_type}


# ---------------------------------------------------------------- GET targets


async def _get_url(ctx, call: KeywordCall, target: str):
    """GET of a URL (or, with query arguments, of an API path)."""
    if not target.lower().startswith(("http://", "https://", "/")):
        raise BasicError(f"GET: '{target}' is not a URL")
    return await http_get(ctx, target, query_params(call))


async def _get_api(ctx, call: KeywordCall, target: str):
    return await http_get(ctx, target, query_params(call))


def query_params(call: KeywordCall) -> dict:
    """``GET url WITH a, b`` -> ``{"a": a, "b": b}``; ``GET url, #{...}`` -> the object."""
    params: dict = {}
    for arg in call.args[1:]:
        params.update(_named_values(arg, "GET"))
    return {key: to_str(value) for key, value in params.items()}


def _named_values(arg: ArgValue, keyword_name: str) -> dict:
    """An argument as name/value pairs: an object's members, else the variable's name."""
    if isinstance(arg.value, dict):
        return dict(arg.value)
    if arg.name:
        return {arg.name: arg.value}
    raise BasicError(f"{keyword_name} ... WITH: write variables or an object, "
                     f"not {to_str(arg.value)!r}")


register_get_target("http", _get_url)
register_get_target("api", _get_api)


# ---------------------------------------------------------------- POST, PUT, PATCH, DELETE


async def _send_with_body(ctx, call: KeywordCall, method: str) -> HttpResponse:
    """``url[, body[, content type]]`` or ``url WITH a, b`` (body object from the names)."""
    leading = call.leading()
    url = to_str(leading[0].value)
    with_args = call.after("WITH")
    if with_args:
        body = BasicObject(_pairs_body(call, with_args, method))
    else:
        body = leading[1].value if len(leading) > 1 else None
    content_type = to_str(leading[2].value) if len(leading) > 2 else None
    return await http_envelope(ctx, method, url, body, content_type or None)


def _pairs_body(call: KeywordCall, with_args: list[ArgValue], method: str) -> dict:
    seps = [raw.sep for raw in call.raw_args]
    after_with = call.raw_args[seps.index("WITH"):] if "WITH" in seps else ()
    for raw in after_with:
        if isinstance(raw.expr, N.Binary) and raw.expr.op == "=":
            # The parser reads ``name = value`` as a comparison; its value is a boolean.
            raise BasicError(f"{method} url WITH name = value is not available in this version; "
                             f"write {method} url, #{{name: value}}")
    body: dict = {}
    for arg in with_args:
        body.update(_named_values(arg, method))
    return body


@keyword("POST", shapes=["x(,x){0,2}", "x WITH x(,x)*"], connectors=["WITH"])
async def post(ctx, call: KeywordCall):
    """``r = POST url, body`` -> the response object (§9.7.2)."""
    return await _send_with_body(ctx, call, "POST")


@keyword("PUT", shapes=["x(,x){0,2}", "x WITH x(,x)*"], connectors=["WITH"])
async def put(ctx, call: KeywordCall):
    return await _send_with_body(ctx, call, "PUT")


@keyword("PATCH", shapes=["x(,x){0,2}", "x WITH x(,x)*"], connectors=["WITH"])
async def patch(ctx, call: KeywordCall):
    return await _send_with_body(ctx, call, "PATCH")


@keyword("DELETE HTTP", shapes=["x"])
async def delete_http(ctx, call: KeywordCall):
    """``r = DELETE HTTP url`` -> the response object (§9.7.3)."""
    return await http_envelope(ctx, "DELETE", to_str(call.values[0]))


# ---------------------------------------------------------------- GRAPHQL and SOAP


@keyword("GRAPHQL", shapes=["x,x(,x)?", "x,x WITH x"], connectors=["WITH"])
async def graphql(ctx, call: KeywordCall):
    """``r = GRAPHQL url, query[, variables]`` / ``... WITH variables``: POST of
    ``{"query", "variables"}``; the response object (§9.7.4)."""
    url, query = to_str(call.values[0]), to_str(call.values[1])
    variables = call.values[2] if len(call.values) > 2 else None
    if isinstance(variables, str):
        variables = from_json(variables) if variables.strip() else None
    body = BasicObject({"query": query,
                        "variables": variables if variables is not None else BasicObject()})
    return await http_envelope(ctx, "POST", url, body, JSON_TYPE)


@keyword("SOAP", shapes=["x,x,x"])
async def soap(ctx, call: KeywordCall):
    """``r = SOAP url, "Operation", params``: a SOAP 1.1 call; ``r.data.raw`` is the
    inner Body XML, ``r.data.xml`` the whole response (§9.7.4)."""
    url, operation = to_str(call.values[0]), to_str(call.values[1])
    params = json_view(call.values[2])  # a string holding a JSON object counts as one (§3.8)
    request = soap_envelope(operation, params).encode("utf-8")
    headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{operation}"'}
    result = await send(ctx, "POST", url, body=request, headers=headers, timeout=SOAP_TIMEOUT)
    xml = result.text()
    inner = _SOAP_BODY.search(xml)
    data = BasicObject({"raw": inner.group(1).strip() if inner else xml, "xml": xml})
    return HttpResponse(status=result.status, status_text=result.reason,
                        headers=result.headers, data=data)


def soap_envelope(operation: str, params) -> str:
    """The SOAP 1.1 request envelope calling ``operation`` with ``params`` as elements."""
    name = _xml_name(operation)
    return ('<?xml version="1.0" encoding="utf-8"?>'
            '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            'xmlns:xsd="http://www.w3.org/2001/XMLSchema">'
            f'<soap:Body><{name} xmlns="{SOAP_NAMESPACE}">{_xml_content(params)}</{name}>'
            '</soap:Body></soap:Envelope>')


def _xml_content(value) -> str:
    """Objects as child elements, arrays as repeated elements, the rest as escaped text."""
    if value is None:
        return ""
    if isinstance(value, dict):
        return "".join(_xml_element(to_str(key), item) for key, item in value.items())
    return escape(to_str(value))


def _xml_element(name: str, value) -> str:
    tag = _xml_name(name)
    if isinstance(value, list):
        return "".join(_xml_element(name, item) for item in value)
    return f"<{tag}>{_xml_content(value)}</{tag}>"


def _xml_name(name: str) -> str:
    if not _XML_NAME.fullmatch(name) or name.lower().startswith("xml"):
        raise BasicError(f"SOAP: '{name}' cannot be an XML element name")
    return name


# ---------------------------------------------------------------- headers


@assignment_form
@keyword("SET HEADER", shapes=["x(,| AS )x", "x"], connectors=["AS"], value=False)
async def set_header(ctx, call: KeywordCall):
    """``SET HEADER "Name", value`` (also ``AS value`` and ``= value``); an empty value
    removes the header (§9.7.5)."""
    if len(call.args) != 2:
        raise BasicError('SET HEADER needs a name and a value: SET HEADER "Name", value')
    name, value = to_str(call.args[0].value).strip(), to_str(call.args[1].value)
    _check_header(name, value)
    headers = ctx.session.headers
    existing = _header_name(headers, name)
    if existing is not None:
        del headers[existing]
    if value != "":
        headers[name] = value


@keyword("CLEAR HEADERS", shapes=[""], value=False)
async def clear_headers(ctx, call: KeywordCall):
    """Forget every header set with SET HEADER."""
    ctx.session.headers.clear()


def _check_header(name: str, value: str) -> None:
    """Refuse names and values that would corrupt the request (header injection)."""
    if not name or not re.fullmatch(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+", name):
        raise BasicError(f"SET HEADER: '{name}' is not a valid header name")
    if "\r" in value or "\n" in value:
        raise BasicError(f"SET HEADER {name}: a header value cannot contain line breaks")


def merge_headers(base: dict, overrides: dict) -> dict:
    """``base`` with ``overrides`` replacing headers of the same (case-insensitive) name."""
    merged = dict(base)
    for name, value in overrides.items():
        existing = _header_name(merged, name)
        if existing is not None:
            del merged[existing]
        merged[name] = value
    return merged


def _header_name(headers: dict, name: str) -> Optional[str]:
    """The stored spelling of header ``name`` (names are case-insensitive), or None."""
    wanted = name.lower()
    return next((key for key in headers if key.lower() == wanted), None)
