"""The cuid-shaped id generator."""

from __future__ import annotations

import re
import threading

from lambdas.database.ids import CuidGenerator, new_id

CUID = re.compile(r"^c[0-9a-z]{24}$")


def test_ids_have_prismas_cuid_shape() -> None:
    assert CUID.match(new_id())


def test_ids_do_not_collide_across_threads() -> None:
    generator = CuidGenerator()
    batches: list[list[str]] = []

    def work() -> None:
        batches.append(generator.many(20_000))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ids = [value for batch in batches for value in batch]
    assert len(ids) == len(set(ids)) == 80_000
    assert all(CUID.match(value) for value in ids[::997])


def test_two_generators_with_one_fingerprint_still_differ() -> None:
    first, second = CuidGenerator(fingerprint="abcd"), CuidGenerator(fingerprint="abcd")
    assert not set(first.many(5_000)) & set(second.many(5_000))
