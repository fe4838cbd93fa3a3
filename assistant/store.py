"""The on-disk index: a Chroma store (through ``langchain-chroma``) plus the kept article texts.

Layout under ``index_dir``::

    index.json          format version and the embedding model that built the index
    chroma/             the Chroma persistent store: collections "sentences" and "chunks"
    texts/<id>.json     each article's full text, metadata and sentence/chunk spans

An article is added sentence and chunk records first and its text file last: the text file is
the commit marker. ``pending/<id>`` marks an add in progress; an add that was interrupted (the
process killed) leaves it behind, and the next write deletes that article's partial records.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from .articles import Article
from .errors import ArticleNotFoundError, IndexMismatchError, StoreError
from .models import Embedder
from .sentences import Sentence
from .sparse import SparseVector

INDEX_FORMAT = 1
SENTENCES = "sentences"
CHUNKS = "chunks"
_ADD_BATCH = 64

Progress = Callable[[int, int], None]
"""Called with (done, total) while texts are embedded."""


@dataclass(frozen=True)
class Chunk:
    """A run of consecutive sentences embedded together, to give sentences their context."""

    index: int
    first: int  # index of the first sentence
    last: int  # index of the last sentence (inclusive)
    start: int
    end: int


@dataclass(frozen=True)
class StoredArticle:
    """An indexed article with its sentences, as kept beside the vector store."""

    article: Article
    sentences: tuple[Sentence, ...]
    chunks: tuple[Chunk, ...]
    added: str
    sparse: tuple[SparseVector, ...] = ()
    """One sparse vector per sentence, or none (sparse channel off)."""

    @property
    def id(self) -> str:
        """The article id."""
        return self.article.id

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (sentences as [start, end] spans)."""
        return {
            "article": asdict(self.article),
            "sentences": [[s.start, s.end] for s in self.sentences],
            "chunks": [[c.first, c.last] for c in self.chunks],
            "added": self.added,
            "sparse": [[list(idx), list(val)] for idx, val in self.sparse],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StoredArticle:
        """Rebuild from ``to_json`` output."""
        article = Article(**data["article"])
        text = article.text
        sentences = tuple(
            Sentence(i, a, b, text[a:b]) for i, (a, b) in enumerate(data["sentences"])
        )
        chunks = tuple(make_chunk(i, sentences, f, la) for i, (f, la) in enumerate(data["chunks"]))
        sparse = tuple((tuple(i), tuple(v)) for i, v in data.get("sparse", []))
        return cls(article, sentences, chunks, data["added"], sparse)


def make_chunk(index: int, sentences: Sequence[Sentence], first: int, last: int) -> Chunk:
    """The chunk spanning ``sentences[first..last]``."""
    return Chunk(index, first, last, sentences[first].start, sentences[last].end)


def group_chunks(
    sentences: Sequence[Sentence], *, max_sentences: int = 6, max_chars: int = 1000
) -> tuple[Chunk, ...]:
    """Group consecutive sentences into chunks of at most ``max_sentences``/``max_chars``."""
    chunks: list[Chunk] = []
    first = 0
    for i in range(1, len(sentences) + 1):
        full = i == len(sentences)
        if not full:
            span = sentences[i].end - sentences[first].start
            full = i - first >= max_sentences or span > max_chars
        if full:
            chunks.append(make_chunk(len(chunks), sentences, first, i - 1))
            first = i
    return tuple(chunks)


def sentence_id(article_id: str, index: int) -> str:
    """The Chroma record id of an article's sentence."""
    return f"{article_id}:s{index}"


def chunk_id(article_id: str, index: int) -> str:
    """The Chroma record id of an article's chunk."""
    return f"{article_id}:c{index}"


class Store:
    """Sentences and chunks in Chroma, article texts on disk, one embedding model per index."""

    def __init__(self, index_dir: Path, embedder: Embedder, *, chroma_client: Any = None) -> None:
        self.index_dir = Path(index_dir)
        self.embedder = embedder
        self.texts_dir = self.index_dir / "texts"
        self._client = chroma_client
        self._collections: dict[str, Any] = {}
        self._cache: dict[str, StoredArticle] | None = None
        self._check_manifest()

    # -- opening -------------------------------------------------------------------------
    def _check_manifest(self) -> None:
        manifest = self.index_dir / "index.json"
        if not manifest.exists():
            return
        try:
            data = json.loads(manifest.read_text())
        except (OSError, ValueError) as exc:
            raise IndexMismatchError(
                f"{manifest} is unreadable ({exc}). Delete the folder {self.index_dir} "
                "and add the articles again."
            ) from exc
        if data.get("format") != INDEX_FORMAT:
            raise IndexMismatchError(
                f"The index in {self.index_dir} has format {data.get('format')}, this version "
                f"reads format {INDEX_FORMAT}. Delete {self.index_dir / 'chroma'} and "
                f"{manifest}, then add the articles again."
            )
        if data.get("embedding_model") != self.embedder.name:
            raise IndexMismatchError(
                f"The index in {self.index_dir} was built with the embedding model "
                f"{data.get('embedding_model')!r}, not {self.embedder.name!r}; vectors of "
                "different models cannot be mixed. Use that model (ASSISTANT_EMBEDDING_MODEL), "
                "or another --index-dir for the new one."
            )

    def _write_manifest(self) -> None:
        manifest = self.index_dir / "index.json"
        if manifest.exists():
            return
        data = {
            "format": INDEX_FORMAT,
            "embedding_model": self.embedder.name,
            "dimension": self.embedder.dimension,
        }
        _atomic_write(manifest, json.dumps(data, indent=2))

    def _vectorstore(self, name: str) -> Any:
        if name not in self._collections:
            os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
            from langchain_chroma import Chroma

            try:
                if self._client is None:
                    import chromadb

                    self._client = chromadb.PersistentClient(
                        path=str(self.index_dir / "chroma"),
                        settings=chromadb.Settings(anonymized_telemetry=False),
                    )
                self._collections[name] = Chroma(
                    collection_name=name,
                    embedding_function=self.embedder.serialised,
                    client=self._client,
                    collection_configuration={"hnsw": {"space": "cosine"}},
                )
            except Exception as exc:  # chromadb raises many types for a broken store
                raise StoreError(
                    f"Cannot open the Chroma store in {self.index_dir / 'chroma'}: {exc}. "
                    "If the folder is damaged, delete it and the texts/ folder beside it, "
                    "then add the articles again."
                ) from exc
        return self._collections[name]

    @contextmanager
    def _write_lock(self) -> Iterator[None]:
        self.index_dir.mkdir(parents=True, exist_ok=True)
        with open(self.index_dir / ".lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                self._finish_interrupted_adds()
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _finish_interrupted_adds(self) -> None:
        """Delete the partial records of adds that were interrupted (called under the lock)."""
        pending = self.index_dir / "pending"
        for marker in sorted(pending.glob("*")) if pending.is_dir() else []:
            if not (self.texts_dir / f"{marker.name}.json").exists():
                self._delete_records(marker.name)
            marker.unlink()

    # -- articles ------------------------------------------------------------------------
    def _load_all(self) -> dict[str, StoredArticle]:
        if self._cache is None:
            cache: dict[str, StoredArticle] = {}
            if self.texts_dir.is_dir():
                for path in sorted(self.texts_dir.glob("*.json")):
                    try:
                        stored = StoredArticle.from_json(json.loads(path.read_text()))
                    except (OSError, ValueError, KeyError, TypeError) as exc:
                        raise StoreError(
                            f"{path} is damaged ({exc}). Remove it and add that article again."
                        ) from exc
                    cache[stored.id] = stored
            self._cache = cache
        return self._cache

    def articles(self) -> list[StoredArticle]:
        """All indexed articles, oldest first."""
        return sorted(self._load_all().values(), key=lambda a: (a.added, a.id))

    def get(self, article_id: str) -> StoredArticle:
        """The indexed article with this id (a unique prefix of it is enough)."""
        found = self._load_all()
        if article_id in found:
            return found[article_id]
        matches = [a for key, a in found.items() if article_id and key.startswith(article_id)]
        if len(matches) == 1:
            return matches[0]
        hint = "it matches several articles" if matches else "no article has it"
        raise ArticleNotFoundError(
            f"Unknown article id {article_id!r} ({hint}). Run `assistant list` to see the ids."
        )

    @property
    def is_new(self) -> bool:
        """True until the first article is added (no manifest written yet)."""
        return not (self.index_dir / "index.json").exists()

    def __contains__(self, article_id: object) -> bool:
        return article_id in self._load_all()

    def __len__(self) -> int:
        return len(self._load_all())

    def add(
        self,
        article: Article,
        sentences: Sequence[Sentence],
        *,
        sparse: Sequence[SparseVector] = (),
        progress: Progress | None = None,
    ) -> StoredArticle:
        """Embed and store an article's sentences and chunks; the text file commits it."""
        if sparse and len(sparse) != len(sentences):
            raise ValueError("one sparse vector per sentence is needed")
        chunks = group_chunks(sentences)
        added = datetime.now(UTC).isoformat(timespec="seconds")
        stored = StoredArticle(article, tuple(sentences), chunks, added, tuple(sparse))
        base = {"article_id": article.id, "lang": article.lang}
        sentence_records = [
            (
                sentence_id(article.id, s.index),
                s.text,
                {**base, "kind": "sentence", "index": s.index, "start": s.start, "end": s.end},
            )
            for s in sentences
        ]
        chunk_records = [
            (
                chunk_id(article.id, c.index),
                article.text[c.start : c.end],
                {**base, "kind": "chunk", "index": c.index, "first": c.first, "last": c.last},
            )
            for c in chunks
        ]
        total = len(sentence_records) + len(chunk_records)
        done = 0
        with self._write_lock():
            self._write_manifest()
            marker = self.index_dir / "pending" / article.id
            marker.parent.mkdir(exist_ok=True)
            marker.touch()
            for name, records in ((SENTENCES, sentence_records), (CHUNKS, chunk_records)):
                store = self._vectorstore(name)
                for i in range(0, len(records), _ADD_BATCH):
                    batch = records[i : i + _ADD_BATCH]
                    ids, texts, metas = (list(x) for x in zip(*batch, strict=True))
                    self._guard(store.add_texts, texts, metadatas=metas, ids=ids)
                    done += len(batch)
                    if progress:
                        progress(done, total)
            self.texts_dir.mkdir(parents=True, exist_ok=True)
            _atomic_write(self.texts_dir / f"{article.id}.json", json.dumps(stored.to_json()))
            marker.unlink()
        if self._cache is not None:
            self._cache[article.id] = stored
        return stored

    def remove(self, article_id: str) -> StoredArticle:
        """Remove an article completely: its records, then its text."""
        stored = self.get(article_id)
        with self._write_lock():
            self._delete_records(stored.id)
            (self.texts_dir / f"{stored.id}.json").unlink(missing_ok=True)
        if self._cache is not None:
            self._cache.pop(stored.id, None)
        return stored

    def _delete_records(self, article_id: str) -> None:
        for name in (SENTENCES, CHUNKS):
            store = self._vectorstore(name)
            self._guard(store.delete, where={"article_id": article_id})

    def repair(self) -> list[str]:
        """Delete every record of an article that has no text file (a full scan); return ids."""
        known = set(self._load_all())
        orphans: set[str] = set()
        for name in (SENTENCES, CHUNKS):
            got = self._guard(self._vectorstore(name).get, include=["metadatas"])
            orphans |= {m["article_id"] for m in got["metadatas"] if m["article_id"] not in known}
        if orphans:
            with self._write_lock():
                for article_id in sorted(orphans):
                    self._delete_records(article_id)
        return sorted(orphans)

    # -- search --------------------------------------------------------------------------
    def search(
        self, name: str, vector: np.ndarray, k: int, article_ids: Sequence[str] | None = None
    ) -> list[tuple[str, dict[str, Any], float]]:
        """The ``k`` records of a collection nearest to ``vector``: (id, metadata, cosine)."""
        store = self._vectorstore(name)
        where = _article_filter(article_ids)
        hits = self._guard(
            store.similarity_search_by_vector_with_relevance_scores,
            vector.tolist(),
            k=k,
            filter=where,
        )
        return [(doc.id, doc.metadata, 1.0 - float(dist)) for doc, dist in hits]

    def vectors(self, name: str, ids: Sequence[str]) -> dict[str, np.ndarray]:
        """Stored embeddings of the given record ids."""
        if not ids:
            return {}
        got = self._guard(self._vectorstore(name).get, ids=list(ids), include=["embeddings"])
        pairs = zip(got["ids"], got["embeddings"], strict=True)
        return {i: np.asarray(e, dtype=np.float32) for i, e in pairs}

    def _guard(self, call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return call(*args, **kwargs)
        except (IndexMismatchError, ArticleNotFoundError, StoreError):
            raise
        except Exception as exc:  # chromadb's own errors have no common base class
            raise StoreError(
                f"The Chroma store in {self.index_dir / 'chroma'} failed: {exc}. "
                "Check the disk space and permissions; if it is damaged, delete it and add "
                "the articles again."
            ) from exc


def _article_filter(article_ids: Sequence[str] | None) -> dict[str, Any] | None:
    if not article_ids:
        return None
    if len(article_ids) == 1:
        return {"article_id": article_ids[0]}
    return {"article_id": {"$in": list(article_ids)}}


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)
