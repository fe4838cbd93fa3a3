"""The on-disk index: a Chroma store (through ``langchain-chroma``) plus the kept article texts.

Layout under ``index_dir``::

    index.json          format version and the embedding model that built the index
    chroma/             the Chroma persistent store: collections "sentences" and "chunks"
                        (absent with a Chroma server: ``chroma_client`` is then given)
    texts/<id>.json     each article's full text, metadata and sentence/chunk spans
    generation          changes with every add and remove (other processes reload then)
    keywords/<gen>/     the BM25 index of that generation's sentences (retrieval.KeywordIndex;
                        a cache: built again when missing)
    .lock               held while writing: one writer at a time, across processes

An article is added sentence and chunk records first and its text file last: the text file is
the commit marker. ``pending/<id>`` marks an add in progress; an add that was interrupted (the
process killed) leaves it behind, and the next start or write deletes its partial records.
``assistant reindex`` rebuilds the vectors from the kept texts (another model, a damaged or
deleted store, a new format).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import closing, contextmanager, nullcontext
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

import numpy as np
import orjson  # reads the kept articles 3x faster than json: a question reads a few dozen

from .articles import URL_ID_PREFIX, Article, text_key
from .errors import ArticleNotFoundError, IndexMismatchError, StoreError
from .models import Embedder
from .sentences import Sentence
from .sparse import SparseVector

INDEX_FORMAT = 1
REINDEX_HINT = "Run `assistant reindex` to rebuild the index from the kept article texts."
SENTENCES = "sentences"
CHUNKS = "chunks"
_LOG_DELETE = 3
"""The code of a deletion in Chroma's write-ahead log (``embeddings_queue.operation``)."""
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


def _unwritable(folder: Path, why: str) -> StoreError:
    return StoreError(
        f"Cannot write to the index folder {folder} ({why}). Give a folder you can write to "
        "with --index-dir (or ASSISTANT_INDEX_DIR)."
    )


def sentence_id(article_id: str, index: int) -> str:
    """The Chroma record id of an article's sentence."""
    return f"{article_id}:s{index}"


def chunk_id(article_id: str, index: int) -> str:
    """The Chroma record id of an article's chunk."""
    return f"{article_id}:c{index}"


class Store:
    """Sentences and chunks in Chroma, article texts on disk, one embedding model per index."""

    def __init__(
        self,
        index_dir: Path,
        embedder: Embedder,
        *,
        chroma_client: Any = None,
        collection_prefix: str = "",
        verify: bool = True,
    ) -> None:
        self.index_dir = Path(index_dir)
        self.embedder = embedder
        self.texts_dir = self.index_dir / "texts"
        self._client = chroma_client
        self._own_client = chroma_client is None  # embedded: ours to reopen
        self.collection_prefix = collection_prefix
        self._collections: dict[str, Any] = {}
        self._cache: dict[str, StoredArticle] = {}  # the articles read so far
        self._ids: set[str] | None = None  # every indexed article's id (the text files)
        self._generation = self._read_generation()
        # one Chroma call at a time in this process, and none while the client is reopened
        self._lock = threading.RLock()
        if verify:
            self._check_manifest()
            self._finish_interrupted_adds_if_idle()

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
                f"reads format {INDEX_FORMAT}. {REINDEX_HINT}"
            )
        if data.get("embedding_model") != self.embedder.name:
            raise IndexMismatchError(
                f"The index in {self.index_dir} was built with the embedding model "
                f"{data.get('embedding_model')!r}, not {self.embedder.name!r}; vectors of "
                "different models cannot be mixed. Use that model (ASSISTANT_EMBEDDING_MODEL), "
                "another --index-dir for the new one, or `assistant reindex` to rebuild this "
                "index with the new model."
            )
        staged = self.index_dir / "reindex"
        if staged.is_dir() and any(staged.glob("*.json")):
            raise StoreError(
                f"A reindex of {self.index_dir} was interrupted. Run `assistant reindex` to "
                "finish it (the article texts are kept)."
            )
        chroma = self.index_dir / "chroma"
        if self._own_client and not chroma.is_dir() and any(self.texts_dir.glob("*.json")):
            raise StoreError(f"The Chroma store {chroma} is missing. {REINDEX_HINT}")

    def _write_manifest(self, *, replace: bool = False) -> None:
        manifest = self.index_dir / "index.json"
        if manifest.exists() and not replace:
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
                    self._client = embedded_chroma(self.index_dir / "chroma")
                self._collections[name] = Chroma(
                    collection_name=self.collection_prefix + name,
                    embedding_function=self.embedder.serialised,
                    client=self._client,
                    collection_configuration={"hnsw": {"space": "cosine"}},
                )
            except Exception as exc:  # chromadb raises many types for a broken store
                chroma = self.index_dir / "chroma"
                if self._own_client and chroma.is_dir() and not os.access(chroma, os.W_OK):
                    raise _unwritable(chroma, "Chroma writes to its folder even to answer") from exc
                raise StoreError(
                    f"Cannot open the Chroma store in {chroma}: {exc}. {REINDEX_HINT}"
                ) from exc
        return self._collections[name]

    def _reopen(self) -> None:
        """Forget what this process holds: another process changed the index."""
        with self._lock:
            self._cache = {}
            self._ids = None
            # an embedded client keeps its vector index in memory: only a new one sees the
            # records another process wrote
            self.close()

    def close(self) -> None:
        """Release the embedded Chroma client and its files (it opens again on next use).

        A server's client is shared by the process's stores and stays open."""
        with self._lock:
            self._collections = {}
            if self._own_client and self._client is not None:
                self._client.close()
                self._client = None

    def _read_generation(self) -> str:
        try:
            return (self.index_dir / "generation").read_text()
        except OSError:
            return ""

    def _bump_generation(self) -> None:
        """Tell other processes that the index changed (called under the write lock)."""
        self._generation = uuid.uuid4().hex
        _atomic_write(self.index_dir / "generation", self._generation)

    def _open_lock(self) -> IO[str]:
        """The index's lock file (the folder made when needed), or a clear error."""
        try:
            self.index_dir.mkdir(parents=True, exist_ok=True)
            return open(self.index_dir / ".lock", "w")  # noqa: SIM115 (the callers close it)
        except OSError as exc:
            raise _unwritable(self.index_dir, exc.strerror or str(exc)) from exc

    @contextmanager
    def _write_lock(self) -> Iterator[None]:
        with self._open_lock() as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                self._sync()  # catch up with what other processes wrote meanwhile
                self._finish_interrupted_adds()
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _finish_interrupted_adds_if_idle(self) -> None:
        """On opening: clean up after a killed add, unless a writer is at work right now."""
        pending = self.index_dir / "pending"
        if not (pending.is_dir() and any(pending.iterdir())):
            return
        with self._open_lock() as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return  # an add is running in another process: its marker is not a leftover
            try:
                self._finish_interrupted_adds()
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
    def _sync(self) -> None:
        """Forget what another process changed since this one last looked."""
        generation = self._read_generation()
        if generation != self._generation:
            self._reopen()
            self._generation = generation

    @property
    def generation(self) -> str:
        """Changes with every add and remove, in any process ("" before the first)."""
        self._sync()
        return self._generation

    def ids(self) -> set[str]:
        """The ids of every indexed article (no article is read)."""
        self._sync()
        if self._ids is None:
            names = self.texts_dir.glob("*.json") if self.texts_dir.is_dir() else []
            self._ids = {path.stem for path in names}
        return self._ids

    def get_many(self, article_ids: Iterable[str]) -> dict[str, StoredArticle]:
        """The indexed articles among these ids, read only when first needed (ids that are
        not indexed, or not yet, are left out)."""
        known = self.ids()
        found = {}
        for article_id in article_ids:
            if article_id in self._cache:
                found[article_id] = self._cache[article_id]
            elif article_id in known:
                try:
                    stored = _read_stored(self.texts_dir / f"{article_id}.json")
                except StoreError:
                    if (self.texts_dir / f"{article_id}.json").exists():
                        raise
                    continue  # removed by another process since the listing
                self._cache[article_id] = found[article_id] = stored
        return found

    def articles(self) -> list[StoredArticle]:
        """All indexed articles, oldest first."""
        return sorted(self.get_many(self.ids()).values(), key=lambda a: (a.added, a.id))

    def get(self, article_id: str) -> StoredArticle:
        """The indexed article with this id (a unique prefix of it is enough)."""
        ids = self.ids()
        matches = [article_id] if article_id in ids else []
        matches = matches or [key for key in ids if article_id and key.startswith(article_id)]
        # the hexadecimal part alone ("8c33" for a-8c33...), as a user may copy it
        matches = matches or [key for key in ids if article_id and key[2:].startswith(article_id)]
        found = self.get_many(matches) if len(matches) == 1 else {}
        if found:
            return next(iter(found.values()))
        if len(matches) > 1:
            shown = ", ".join(sorted(matches)[:5]) + (", ..." if len(matches) > 5 else "")
            raise ArticleNotFoundError(
                f"Ambiguous article id {article_id!r}: it matches {len(matches)} articles "
                f"({shown}). Give more of the id."
            )
        raise ArticleNotFoundError(
            f"Unknown article id {article_id!r} (no article has it). Run `assistant list` to "
            "see the ids."
        )

    @property
    def is_new(self) -> bool:
        """True until the first article is added (no manifest written yet)."""
        return not (self.index_dir / "index.json").exists()

    def __contains__(self, article_id: object) -> bool:
        return article_id in self.ids()

    def __len__(self) -> int:
        return len(self.ids())

    def add(
        self,
        article: Article,
        sentences: Sequence[Sentence],
        *,
        sparse: Sequence[SparseVector] = (),
        vectors: np.ndarray | None = None,
        progress: Progress | None = None,
        added: str = "",
    ) -> StoredArticle | None:
        """Embed and store an article's sentences and chunks; the text file commits it.
        ``None`` when the article is indexed already (by another process meanwhile).

        ``vectors``: the sentences' passage vectors, where a pass computed them already (the
        one that gave their sparse vectors); else the store embeds them. ``added`` keeps the
        date of an article that is re-indexed (default: now)."""
        if sparse and len(sparse) != len(sentences):
            raise ValueError("one sparse vector per sentence is needed")
        if vectors is not None and len(vectors) != len(sentences):
            raise ValueError("one vector per sentence is needed")
        chunks = group_chunks(sentences)
        added = added or datetime.now(UTC).isoformat(timespec="seconds")
        stored = StoredArticle(article, tuple(sentences), chunks, added, tuple(sparse))
        base = {"article_id": article.id, "lang": article.lang, "text_key": text_key(article.text)}
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
            if article.id in self:  # added by another process since the caller looked
                return None
            self._write_manifest()
            marker = self.index_dir / "pending" / article.id
            marker.parent.mkdir(exist_ok=True)
            marker.touch()
            known = (
                self.embedder.given_passages([s.text for s in sentences], vectors)
                if vectors is not None
                else nullcontext()
            )
            with known:
                for name, records in ((SENTENCES, sentence_records), (CHUNKS, chunk_records)):
                    for i in range(0, len(records), _ADD_BATCH):
                        batch = records[i : i + _ADD_BATCH]
                        ids, texts, metas = (list(x) for x in zip(*batch, strict=True))
                        with self._lock:  # one batch at a time: answers get their turn between
                            store = self._vectorstore(name)
                            self._guard(store.add_texts, texts, metadatas=metas, ids=ids)
                        done += len(batch)
                        if progress:
                            progress(done, total)
            self.texts_dir.mkdir(parents=True, exist_ok=True)
            _atomic_write(self.texts_dir / f"{article.id}.json", json.dumps(stored.to_json()))
            marker.unlink()
            self._bump_generation()
            self._cache[article.id] = stored
            self._ids = self.ids() | {article.id}  # a new set: other threads may be reading
        return stored

    def remove(self, article_id: str) -> StoredArticle:
        """Remove an article completely: its records, then its text."""
        stored = self.get(article_id)
        with self._write_lock():
            self._delete_records(stored.id)
            (self.texts_dir / f"{stored.id}.json").unlink(missing_ok=True)
            self._bump_generation()
            self._cache.pop(stored.id, None)
            self._ids = self.ids() - {stored.id}
        return stored

    def _delete_records(self, article_id: str) -> None:
        with self._lock:
            for name in (SENTENCES, CHUNKS):
                self._guard(self._vectorstore(name).delete, where={"article_id": article_id})
            if self._own_client:
                self._purge_log(article_id)

    def _purge_log(self, article_id: str) -> None:
        """Drop the article's writes from the embedded Chroma's write-ahead log.

        Chroma keeps every write (the sentence text, its metadata and vector) in the log table
        of ``chroma.sqlite3`` until its vector index is next saved, which a small index may
        never reach: after a removal the text stayed on disk. The deletions stay in the log, so
        a vector index saved before them still loses the records when the log is replayed; a
        deletion of a record whose write is gone is skipped (checked in tests/test_store.py)."""
        import sqlite3

        database = self.index_dir / "chroma" / "chroma.sqlite3"
        if not database.is_file():
            return
        prefix = f"{article_id}:"  # record ids: "<article id>:s<n>" and "<article id>:c<n>"
        try:
            with closing(sqlite3.connect(database, timeout=60)) as db, db:
                db.execute(
                    "DELETE FROM embeddings_queue WHERE operation != ? AND substr(id, 1, ?) = ?",
                    (_LOG_DELETE, len(prefix), prefix),
                )
        except sqlite3.Error as exc:
            raise StoreError(
                f"Removed {article_id}, but Chroma's log in {database} still holds its text "
                f"({exc}). Run `assistant remove` again once no other process writes."
            ) from exc

    def repair(self) -> list[str]:
        """Delete every record of an article that has no text file (a full scan); return ids."""
        known = self.ids()
        orphans: set[str] = set()
        for name in (SENTENCES, CHUNKS):
            with self._lock:
                got = self._guard(self._vectorstore(name).get, include=["metadatas"])
            orphans |= {m["article_id"] for m in got["metadatas"] if m["article_id"] not in known}
        if orphans:
            with self._write_lock():
                for article_id in sorted(orphans):
                    self._delete_records(article_id)
        return sorted(orphans)

    def start_reindex(self) -> list[StoredArticle]:
        """Delete every vector and start a new manifest for this model, keeping the texts.

        The article texts move to ``reindex/`` until each is added again (``assistant
        reindex``), so an interrupted reindex loses nothing: running it again goes on.
        Returns the articles waiting to be added again."""
        with self._write_lock():
            staging = self.index_dir / "reindex"
            staging.mkdir(exist_ok=True)
            for path in self.texts_dir.glob("*.json") if self.texts_dir.is_dir() else []:
                os.replace(path, staging / path.name)
            with self._lock:
                if self._own_client:
                    self._reopen()
                    shutil.rmtree(self.index_dir / "chroma", ignore_errors=True)
                else:
                    for name in (SENTENCES, CHUNKS):
                        try:
                            self._client.delete_collection(self.collection_prefix + name)
                        except Exception:  # noqa: BLE001 (absent already: nothing to delete)
                            pass
                    self._collections = {}
            self._write_manifest(replace=True)
            self._bump_generation()
            self._cache, self._ids = {}, set()
            return [_read_stored(p) for p in sorted(staging.glob("*.json"))]

    def finish_reindexed(self, article_id: str) -> None:
        """The article is indexed again: drop its staged copy."""
        (self.index_dir / "reindex" / f"{article_id}.json").unlink(missing_ok=True)

    # -- search --------------------------------------------------------------------------
    def search(
        self, name: str, vector: np.ndarray, k: int, article_ids: Sequence[str] | None = None
    ) -> list[tuple[str, dict[str, Any], float]]:
        """The ``k`` records of a collection nearest to ``vector``: (id, metadata, cosine)."""
        with self._lock:
            hits = self._guard(
                self._vectorstore(name).similarity_search_by_vector_with_relevance_scores,
                vector.tolist(),
                k=k,
                filter=_article_filter(article_ids),
            )
        return [(doc.id, doc.metadata, 1.0 - float(dist)) for doc, dist in hits]

    def with_text(self, text: str) -> StoredArticle | None:
        """The indexed article with this text (up to spacing), whatever its id: a text's id is
        its key, and an article from an address carries the key in its records (those indexed
        before 2026-11-27 do not, until ``assistant reindex``)."""
        key = text_key(text)
        ids = self.ids()
        if key in ids:
            return self.get(key)
        if not any(i.startswith(URL_ID_PREFIX) for i in ids):  # the others' id is their key
            return None
        with self._lock:
            got = self._guard(
                self._vectorstore(CHUNKS).get,
                where={"$and": [{"text_key": key}, {"index": 0}]},
                include=["metadatas"],
            )
        found = self.get_many(m["article_id"] for m in got["metadatas"])  # committed ones only
        return next(iter(found.values()), None)

    def vectors(self, name: str, ids: Sequence[str]) -> dict[str, np.ndarray]:
        """Stored embeddings of the given record ids."""
        if not ids:
            return {}
        with self._lock:
            got = self._guard(self._vectorstore(name).get, ids=list(ids), include=["embeddings"])
        pairs = zip(got["ids"], got["embeddings"], strict=True)
        return {i: np.asarray(e, dtype=np.float32) for i, e in pairs}

    def sample_vectors(self, name: str, where: dict[str, Any], limit: int) -> np.ndarray:
        """Up to ``limit`` stored embeddings of the records ``where`` selects (the first
        found, not chosen at random), one a row."""
        with self._lock:
            got = self._guard(
                self._vectorstore(name).get, where=where, limit=limit, include=["embeddings"]
            )
        embeddings = got.get("embeddings")
        if embeddings is None or not len(embeddings):
            return np.zeros((0, 0), dtype=np.float32)
        return np.asarray(embeddings, dtype=np.float32)

    def _guard(self, call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        try:
            with self._lock:
                return call(*args, **kwargs)
        except (IndexMismatchError, ArticleNotFoundError, StoreError):
            raise
        except Exception as exc:  # chromadb's own errors have no common base class
            raise StoreError(
                f"The Chroma store in {self.index_dir / 'chroma'} failed: {exc}. "
                f"Check the disk space and permissions; if it is damaged: {REINDEX_HINT}"
            ) from exc


def open_store(
    index_dir: Path, embedder: Embedder, *, chroma_url: str = "", verify: bool = True
) -> Store:
    """The index in ``index_dir``: embedded Chroma, or the Chroma server at ``chroma_url``.

    With a server, the vectors live there in collections named after this index folder (so
    several indexes can share one server); the manifest and article texts stay in the folder.
    """
    if not chroma_url:
        return Store(index_dir, embedder, verify=verify)
    folder = str(Path(index_dir).expanduser().resolve())
    prefix = "na-" + hashlib.sha256(folder.encode()).hexdigest()[:12] + "-"
    client = connect_chroma_server(chroma_url)
    return Store(index_dir, embedder, chroma_client=client, collection_prefix=prefix, verify=verify)


def embedded_chroma(folder: Path) -> Any:
    """An embedded Chroma client keeping its files in ``folder``, without telemetry. Close it
    (``close()``) before the folder is deleted: chromadb keeps an open one process-wide.
    Typed ``Any``: chromadb's ``ClientAPI`` type has no ``close``."""
    import chromadb

    return chromadb.PersistentClient(
        path=str(folder), settings=chromadb.Settings(anonymized_telemetry=False)
    )


_SERVER_CLIENTS: dict[str, Any] = {}


def connect_chroma_server(url: str) -> Any:
    """A client of the Chroma server at ``http(s)://HOST:PORT``, or a ``StoreError``.

    One client per server and process, shared by its stores: chromadb's HTTP clients share
    one connection pool per server anyway, and closing one leaves sockets to the collector."""
    if url in _SERVER_CLIENTS:
        return _SERVER_CLIENTS[url]
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    parts = urlsplit(url.strip())
    fix = (
        "Start one with `chroma run --host 127.0.0.1 --port 8000 --path DIR` and set "
        "ASSISTANT_CHROMA_URL=http://127.0.0.1:8000 (or --chroma-url)."
    )
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise StoreError(f"{url!r} is not a Chroma server address (http://HOST:PORT). {fix}")
    import chromadb

    try:
        client = chromadb.HttpClient(
            host=parts.hostname,
            port=parts.port or (443 if parts.scheme == "https" else 8000),
            ssl=parts.scheme == "https",
            settings=chromadb.Settings(anonymized_telemetry=False),
        )
        client.heartbeat()
    except Exception as exc:  # connection errors come in many types
        raise StoreError(f"Cannot reach the Chroma server at {url} ({exc}). {fix}") from exc
    _SERVER_CLIENTS[url] = client
    return client


def _read_stored(path: Path) -> StoredArticle:
    try:
        return StoredArticle.from_json(orjson.loads(path.read_bytes()))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise StoreError(
            f"{path} is damaged ({exc}). Remove it and add that article again."
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
