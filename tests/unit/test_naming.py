"""Module names: directory name parsing, kebab ↔ camel conversion, the round-trip check."""

from __future__ import annotations

from pathlib import Path

import pytest

from addon_operator.naming import NamingError, check_name, kebab, module_key, parse_dir_name


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("cert-manager", "certManager"),
        ("sysctl-tuner", "sysctlTuner"),
        ("a", "a"),
        ("very-simple-module", "verySimpleModule"),
        ("k8s-api", "k8sApi"),          # a lower-case letter after a digit continues the word
        ("abc2-def", "abc2Def"),
        ("module-1", "module1"),        # a digit starting a word is not upper-cased
        ("my_module", "myModule"),      # `_` is a delimiter too
        ("a--b", "aB"),                 # repeated delimiters collapse
        ("-lead", "lead"),
        ("v4.3-x", "v4.3X"),            # a dot between digits is kept, elsewhere it delimits
        ("FOOBar", "fooBar"),           # acronym followed by a word
        ("  padded  ", "padded"),       # surrounding whitespace is trimmed
    ],
)
def test_module_key(name: str, key: str) -> None:
    assert module_key(name) == key


@pytest.mark.parametrize(
    ("key", "name"),
    [
        ("certManager", "cert-manager"),
        ("k8sApi", "k8s-api"),
        ("abc2Def", "abc2-def"),        # an upper-case letter after a digit starts a word
        ("module1", "module1"),         # digits after letters do not start a word
        ("HTTPServer", "http-server"),
        ("fooBAR", "foo-bar"),
        ("http2Server", "http2-server"),
        ("a.b", "a-b"),
        ("abc-", "abc-"),               # a trailing delimiter is written (strcase quirk)
    ],
)
def test_kebab(key: str, name: str) -> None:
    assert kebab(key) == name


@pytest.mark.parametrize("name", ["cert-manager", "k8s-api", "abc2-def", "a", "x1", "http2-server", "123"])
def test_check_name_accepts_round_trippable_names(name: str) -> None:
    check_name(name)


@pytest.mark.parametrize(
    ("name", "restored"),
    [
        ("my_module", "my-module"),
        ("module-1", "module1"),
        ("CertManager", "cert-manager"),
        ("cert--manager", "cert-manager"),
        ("abc-", "abc"),
        ("a.b", "a-b"),
        ("-lead", "lead"),
    ],
)
def test_check_name_rejects_with_suggestion(name: str, restored: str) -> None:
    with pytest.raises(NamingError) as caught:
        check_name(name, Path("/x") / f"001-{name}")
    message = str(caught.value)
    assert f"'{name}'" in message
    assert f"(dir /x/001-{name})" in message
    assert "kebab-case" in message
    assert f"'{module_key(name)}' → '{restored}'" in message


def test_check_name_message_matches_documented_form() -> None:
    with pytest.raises(NamingError, match=(
        r"^module name 'my_module' \(dir /x/001-my_module\) must be kebab-case and restorable "
        r"from its camelCase values key 'myModule' → 'my-module'$"
    )):
        check_name("my_module", Path("/x/001-my_module"))


@pytest.mark.parametrize(
    ("dirname", "expected"),
    [
        ("001-cert-manager", (1, "cert-manager")),
        ("cert-manager", (7, "cert-manager")),        # no prefix → the unnumbered order
        ("0-zero", (0, "zero")),
        ("2147483647-max", (2147483647, "max")),      # 2^31-1 still fits
        ("2147483648-over", (7, "over")),             # above 31 bits → the unnumbered order
        ("10-20-thirty", (10, "20-thirty")),          # only the first number is the order
        ("001-", (7, "001-")),                        # the name needs at least one character
        ("42", (7, "42")),
    ],
)
def test_parse_dir_name(dirname: str, expected: tuple[int, str]) -> None:
    assert parse_dir_name(dirname, unnumbered_order=7) == expected


def test_parse_dir_name_rejects_names_the_pattern_cannot_match() -> None:
    with pytest.raises(NamingError, match=r"'bad\\nname' is invalid"):
        parse_dir_name("bad\nname", unnumbered_order=1)
