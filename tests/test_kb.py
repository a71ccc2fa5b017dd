"""Knowledge base: extraction of each format, chunking, indexing and search (§1.3, §9.4)."""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from botbasic.runtime.package import load_package
from botbasic.runtime.services.embeddings import MiniLMEmbedder
from botbasic.runtime.services.kb_chunks import Chunk, chunk_parts, normalise_text, split_text
from botbasic.runtime.services.kb_extract import ExtractionError, extract, html_to_text, is_supported
from botbasic.runtime.services.kb_index import (
    KnowledgeBase,
    discover_collections,
    open_vector_store,
    qdrant_collection_name,
)


# ---------------------------------------------------------------- test files


def make_pdf(path: Path, pages: list[list[str]]) -> Path:
    """A minimal valid PDF: one Helvetica text line per string, one page per list."""
    objects = ["<< /Type /Catalog /Pages 2 0 R >>", None,
               "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    kids = []
    for lines in pages:
        operations = ["BT", "/F1 12 Tf", "14 TL", "72 720 Td"]
        operations += [f"({line}) Tj T*" for line in lines]
        stream = "\n".join(operations + ["ET"])
        objects.append(f"<< /Length {len(stream)} >>\nstream\n{stream}\nendstream")
        content_ref = len(objects)
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792]"
                       f" /Contents {content_ref} 0 R /Resources << /Font << /F1 3 0 R >> >> >>")
        kids.append(f"{len(objects)} 0 R")
    objects[1] = f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {len(kids)} >>"
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{offset:010d} 00000 n \n" for offset in offsets).encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    path.write_bytes(out)
    return path


def make_docx(path: Path) -> Path:
    import docx

    document = docx.Document()
    document.add_heading("Employee handbook", level=1)
    document.add_paragraph("Vacation requests go to your manager two weeks ahead.")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "Plan"
    table.cell(0, 1).text = "Price"
    table.cell(1, 0).text = "Basic"
    table.cell(1, 1).text = "R$ 49,90"
    document.add_paragraph("Remote work is allowed on Fridays.")
    document.save(str(path))
    return path


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))
    return path


# ---------------------------------------------------------------- extraction


def test_plain_text_and_markdown(tmp_path: Path) -> None:
    assert extract(write(tmp_path / "a.txt", "\ufeffHello\nworld\n")) == ["Hello\nworld"]
    assert extract(write(tmp_path / "b.md", "# Title\n\n* one\n* two\n")) == ["# Title\n\n* one\n* two"]


def test_windows_1252_text_keeps_its_accents(tmp_path: Path) -> None:
    path = write(tmp_path / "pt.txt", "Atenção: horário de verão", encoding="cp1252")
    assert extract(path) == ["Atenção: horário de verão"]


def test_html_skips_script_and_style_and_breaks_blocks(tmp_path: Path) -> None:
    markup = """<html><head><title>Prices</title><style>p {color: red}</style>
    <script>var secret = 1;</script></head>
    <body><h1>Our plans</h1><p>Basic costs <b>10</b> &euro;.</p><div>Pro costs 20&nbsp;&euro;.</div>
    <table><tr><th>Plan</th><th>Seats</th></tr><tr><td>Basic</td><td>1</td></tr></table>
    <noscript>enable js</noscript></body></html>"""
    text = extract(write(tmp_path / "p.html", markup))[0]
    assert text.splitlines() == ["Prices", "Our plans", "Basic costs 10 €.", "Pro costs 20 €.",
                                 "Plan | Seats", "Basic | 1"]
    assert "secret" not in text and "color" not in text and "enable js" not in text


def test_csv_gives_one_part_per_row(tmp_path: Path) -> None:
    path = write(tmp_path / "products.csv", "name;price;notes\nCoffee;12,50;\nTea;8,00;green\n")
    assert extract(path) == ["name: Coffee\nprice: 12,50", "name: Tea\nprice: 8,00\nnotes: green"]


def test_json_is_flattened(tmp_path: Path) -> None:
    data = {"store": {"name": "Loja", "open": True, "hours": [{"day": "mon", "from": 9}]}}
    assert extract(write(tmp_path / "s.json", json.dumps(data))) == [
        "store.name: Loja\nstore.open: true\nstore.hours[0].day: mon\nstore.hours[0].from: 9"
    ]
    records = [{"q": "Do you deliver?", "a": "Yes"}, {"q": "Pets?", "a": "No"}]
    assert extract(write(tmp_path / "faq.json", json.dumps(records))) == [
        "q: Do you deliver?\na: Yes", "q: Pets?\na: No"
    ]


def test_pdf_text_of_every_page(tmp_path: Path) -> None:
    path = make_pdf(tmp_path / "h.pdf", [["Opening hours", "Monday to Friday"], ["Closed on Sundays"]])
    text = extract(path)[0]
    assert "Opening hours" in text and "Monday to Friday" in text
    assert text.index("Monday to Friday") < text.index("Closed on Sundays")


def test_docx_paragraphs_and_tables_in_order(tmp_path: Path) -> None:
    text = extract(make_docx(tmp_path / "handbook.docx"))[0]
    assert text.split("\n\n") == [
        "Employee handbook",
        "Vacation requests go to your manager two weeks ahead.",
        "Plan | Price\nBasic | R$ 49,90",
        "Remote work is allowed on Fridays.",
    ]


def test_unsupported_and_broken_files(tmp_path: Path) -> None:
    assert not is_supported("photo.png") and is_supported("Manual.PDF")
    with pytest.raises(ValueError):
        extract(write(tmp_path / "x.png", "not text"))
    with pytest.raises(ExtractionError, match="broken.pdf"):
        extract(write(tmp_path / "broken.pdf", "this is not a pdf"))
    with pytest.raises(ExtractionError, match="bad.json"):
        extract(write(tmp_path / "bad.json", "{nope"))


def test_html_to_text_of_a_fragment() -> None:
    assert html_to_text("a<br>b<br/>c") == "a\nb\nc"


# ---------------------------------------------------------------- chunking

SENTENCE_WORDS = "price plan store hour refund order ticket manager delivery week".split()


def prose(paragraphs: int, seed: int = 7) -> str:
    """Numbered sentences (each unique) in paragraphs of 3-9 sentences."""
    rng = np.random.default_rng(seed)
    number = 0
    blocks = []
    for _ in range(paragraphs):
        sentences = []
        for _ in range(int(rng.integers(3, 10))):
            number += 1
            words = " ".join(rng.choice(SENTENCE_WORDS, size=int(rng.integers(6, 16))))
            sentences.append(f"Sentence {number} is about {words}.")
        blocks.append(" ".join(sentences))
    return "\n\n".join(blocks)


def overlap_length(first: str, second: str) -> int:
    """Length of the longest prefix of ``second`` that ends ``first``."""
    for length in range(min(len(first), len(second)), 0, -1):
        if first.endswith(second[:length]):
            return length
    return 0


def test_chunks_respect_size_and_overlap() -> None:
    text = prose(40)
    chunks = split_text(text, 1000, 200)
    assert len(chunks) > 5
    assert all(len(chunk) <= 1000 for chunk in chunks)
    assert all(len(chunk) >= 400 for chunk in chunks[:-1])  # packed, not fragmented
    for first, second in zip(chunks, chunks[1:]):
        shared = overlap_length(first, second.split("\n\n")[0])
        assert 20 <= shared <= 200
        assert re.match(r"Sentence \d+ ", second)  # starts at a sentence start
    for sentence in re.findall(r"Sentence \d+ [^.]*\.", text):
        assert any(sentence in chunk for chunk in chunks)


def test_chunks_prefer_paragraph_ends() -> None:
    paragraph = " ".join(f"Line {n} of the first paragraph says something useful." for n in range(12))
    text = "\n\n".join(paragraph.replace("first", which) for which in ("first", "second", "third"))
    chunks = split_text(text, 1000, 200)
    # Every cut lands on a paragraph end, so each chunk ends where one of them ends.
    assert all(chunk.endswith("useful.") for chunk in chunks)
    assert chunks[0] == paragraph


def test_short_text_is_one_chunk_and_blank_text_none() -> None:
    assert split_text("  Hello\r\n\r\n\r\n\r\nworld  ") == ["Hello\n\nworld"]
    assert split_text(" \n\t ") == []


def test_a_huge_word_is_cut_by_characters() -> None:
    chunks = split_text("x" * 2500, 1000, 200)
    assert all(len(chunk) <= 1000 for chunk in chunks)
    assert "".join(chunks).count("x") >= 2500


def test_normalise_text() -> None:
    assert normalise_text("a \t b  \nc\u00a0d\n\n\n\ne ") == "a b\nc d\n\ne"


def test_chunk_parts_numbers_chunks_and_never_merges_parts() -> None:
    chunks = chunk_parts(["row one", "row two", prose(10)], source="sub/p.csv", collection="faq")
    assert chunks[0] == Chunk("row one", "sub/p.csv", "faq", 0)
    assert chunks[1].text == "row two"
    assert [chunk.position for chunk in chunks] == list(range(len(chunks)))


# ---------------------------------------------------------------- indexing and search


class CountingEmbedder:
    """The real embedder, recording every text it is asked to embed."""

    def __init__(self, inner: MiniLMEmbedder) -> None:
        self.inner = inner
        self.name = inner.name
        self.dims = inner.dims
        self.texts: list[str] = []

    def embed(self, texts: list[str]) -> np.ndarray:
        self.texts.extend(texts)
        return self.inner.embed(texts)


@pytest.fixture(scope="module")
def minilm() -> MiniLMEmbedder:
    model = MiniLMEmbedder()
    model.load()
    return model


@pytest.fixture
def embedder(minilm: MiniLMEmbedder) -> CountingEmbedder:
    return CountingEmbedder(minilm)


HOURS = "Store hours: we open at 9 am and close at 6 pm from Monday to Saturday. On Sundays we are closed."
REFUNDS = "Refund policy: products can be returned within 30 days with the receipt for a full refund."
SHIPPING = "Shipping: orders above 200 reais ship for free to any city in Brazil within 5 business days."


@pytest.fixture
def package_dir(tmp_path: Path) -> Path:
    root = tmp_path / "bots" / "shop.gbai"
    kb = root / "shop.gbkb"
    write(kb / "faq" / "hours.txt", HOURS)
    write(kb / "faq" / "more" / "shipping.md", SHIPPING)
    write(kb / "policies" / "refunds.html", f"<html><body><p>{REFUNDS}</p></body></html>")
    make_pdf(kb / "policies" / "warranty.pdf", [["Warranty: electronics carry a one year warranty."]])
    write(kb / "about.txt", "Shop Ltda was founded in 1998 in Porto Alegre by two sisters.")
    write(kb / "policies" / ".hidden.txt", "never indexed")
    write(kb / "policies" / "image.png", "never indexed")
    return root


@pytest.fixture
def kb(tmp_path: Path, embedder: CountingEmbedder):
    knowledge = KnowledgeBase(open_vector_store(tmp_path / "store"), embedder)
    yield knowledge
    knowledge.close()


def test_collections_are_first_level_folders(package_dir: Path) -> None:
    found = discover_collections(package_dir / "shop.gbkb", "shop")
    assert {name: [p.name for p in files] for name, files in found.items()} == {
        "faq": ["hours.txt", "shipping.md"],
        "policies": ["refunds.html", "warranty.pdf"],
        "shop": ["about.txt"],
    }


def test_index_and_search_finds_the_right_chunk_first(kb: KnowledgeBase, package_dir: Path) -> None:
    events = []
    report = kb.index_package(load_package(package_dir), progress=events.append)
    assert sorted(report.sources("indexed")) == [
        "faq/hours.txt", "faq/more/shipping.md", "policies/refunds.html", "policies/warranty.pdf",
        "shop/about.txt",
    ]
    assert events == report.events and report.chunks_embedded == 5
    assert kb.collections("shop") == ["faq", "policies", "shop"]

    results = kb.search("shop", ["policies"], "can I get my money back?", top_k=2)
    assert results[0] == {"content": REFUNDS, "source": "refunds.html", "kb_name": "policies",
                          "relevance": pytest.approx(results[0]["relevance"])}
    assert results[0]["relevance"] > results[1]["relevance"]

    everywhere = kb.search("shop", None, "what time do you open on saturday?", top_k=3)
    assert everywhere[0]["content"] == HOURS and everywhere[0]["kb_name"] == "faq"
    assert kb.search("shop", ["FAQ"], "free delivery", top_k=1)[0]["source"] == "more/shipping.md"
    assert kb.search("shop", ["faq"], "when was the company founded?")[0]["kb_name"] == "faq"
    assert kb.search("shop", None, "when was the company founded?")[0]["kb_name"] == "shop"


def test_in_memory_search_agrees_with_qdrant(kb: KnowledgeBase, package_dir: Path,
                                            embedder: CountingEmbedder) -> None:
    kb.index_package(load_package(package_dir))
    by_qdrant = KnowledgeBase(kb.store, embedder, memory_search=False)
    for query in ("refund", "opening hours on sunday", "who founded the shop", "laptop warranty"):
        mine = kb.search("shop", None, query, top_k=4)
        theirs = by_qdrant.search("shop", None, query, top_k=4)
        assert [hit["content"] for hit in mine] == [hit["content"] for hit in theirs]
        scores = [hit["relevance"] for hit in theirs]
        assert [hit["relevance"] for hit in mine] == pytest.approx(scores, abs=1e-5)


def test_search_limits(kb: KnowledgeBase, package_dir: Path) -> None:
    kb.index_package(load_package(package_dir))
    assert kb.search("shop", ["not-there"], "refund") == []
    assert kb.search("other-bot", None, "refund") == []
    assert len(kb.search("shop", None, "refund", top_k=2)) == 2
    assert kb.search("shop", "Policies", "refund", top_k=1)[0]["kb_name"] == "policies"
    strict = kb.search("shop", None, "refund", top_k=10, min_score=0.4)
    assert [hit["source"] for hit in strict] == ["refunds.html"]


def test_reindex_embeds_only_the_changed_file(kb: KnowledgeBase, package_dir: Path,
                                              embedder: CountingEmbedder) -> None:
    package = load_package(package_dir)
    kb.index_package(package)
    assert kb.search("shop", ["faq"], "store hours", top_k=1)[0]["content"] == HOURS  # cached now
    embedder.texts.clear()
    new_hours = "Store hours: from December on we open at 8 am every day, Sundays included."
    write(package_dir / "shop.gbkb" / "faq" / "hours.txt", new_hours)

    report = kb.index_package(package)
    assert embedder.texts == [new_hours]
    assert report.sources("indexed") == ["faq/hours.txt"]
    assert len(report.sources("unchanged")) == 4
    contents = [hit["content"] for hit in kb.search("shop", ["faq"], "store hours", top_k=10)]
    assert new_hours in contents and HOURS not in contents


def test_removed_files_and_folders_lose_their_points(kb: KnowledgeBase, package_dir: Path) -> None:
    package = load_package(package_dir)
    kb.index_package(package)
    assert kb.search("shop", None, "free shipping", top_k=1)[0]["source"] == "more/shipping.md"
    (package_dir / "shop.gbkb" / "faq" / "more" / "shipping.md").unlink()
    for path in (package_dir / "shop.gbkb" / "policies").iterdir():
        path.unlink()
    (package_dir / "shop.gbkb" / "policies").rmdir()

    report = kb.index_package(package)
    assert report.sources("removed") == ["faq/more/shipping.md"]
    assert [event.collection for event in report.events if event.action == "dropped"] == ["policies"]
    assert kb.collections("shop") == ["faq", "shop"]
    faq = qdrant_collection_name("shop", "faq")
    assert kb.store.count(faq).count == 1
    assert all(hit["source"] != "more/shipping.md" for hit in kb.search("shop", None, "shipping", top_k=10))


def test_unreadable_file_is_reported_and_others_indexed(kb: KnowledgeBase, package_dir: Path) -> None:
    write(package_dir / "shop.gbkb" / "faq" / "broken.pdf", "not a pdf at all")
    report = kb.index_package(load_package(package_dir))
    failed = [event for event in report.events if event.action == "failed"]
    assert [event.source for event in failed] == ["broken.pdf"] and "broken.pdf" in failed[0].error
    assert len(report.sources("indexed")) == 5


def test_local_store_persists_across_reopen(tmp_path: Path, package_dir: Path,
                                           embedder: CountingEmbedder) -> None:
    store_path = tmp_path / "persisted"
    first = KnowledgeBase(open_vector_store(store_path), embedder)
    first.index_package(load_package(package_dir))
    first.close()
    embedder.texts.clear()

    reopened = KnowledgeBase(open_vector_store(store_path), embedder)
    try:
        assert reopened.collections("shop") == ["faq", "policies", "shop"]
        assert reopened.search("shop", None, "warranty of electronics")[0]["source"] == "warranty.pdf"
        report = reopened.index_package(load_package(package_dir))
        assert report.sources("indexed") == [] and len(report.sources("unchanged")) == 5
        assert embedder.texts == ["warranty of electronics"]  # only the query was embedded
    finally:
        reopened.close()


def test_other_chunk_settings_rebuild_the_collections(tmp_path: Path, package_dir: Path,
                                                      embedder: CountingEmbedder) -> None:
    store_path = tmp_path / "layout"
    first = KnowledgeBase(open_vector_store(store_path), embedder)
    first.index_package(load_package(package_dir))
    first.close()
    resized = KnowledgeBase(open_vector_store(store_path), embedder, chunk_size=500, overlap=100)
    try:
        assert len(resized.index_package(load_package(package_dir)).sources("indexed")) == 5
    finally:
        resized.close()


def test_package_without_kb_folder_drops_its_collections(kb: KnowledgeBase, package_dir: Path) -> None:
    kb.index_package(load_package(package_dir))
    for path in sorted((package_dir / "shop.gbkb").rglob("*"), reverse=True):
        path.rmdir() if path.is_dir() else path.unlink()
    (package_dir / "shop.gbkb").rmdir()
    kb.index_package(load_package(package_dir))
    assert kb.collections("shop") == []


def test_collection_names_are_safe_unique_and_case_insensitive() -> None:
    name = qdrant_collection_name("Loja Virtual", "Políticas/2024")
    assert re.fullmatch(r"[a-z0-9_-]+", name)
    assert name == qdrant_collection_name("loja virtual", "POLÍTICAS/2024")
    assert name != qdrant_collection_name("Loja Virtual", "Pol_ticas_2024")
    assert qdrant_collection_name("a", "b__c") != qdrant_collection_name("a__b", "c")
