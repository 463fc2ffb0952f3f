"""``aico-secure report``: merge the results of several commands into one report, render a report in every
format CI reads, diff two reports, and sign and verify them.

Exit codes:
- ``merge``: 0 the merged report's verdict is "pass", 1 it is "fail" or "incomplete" (the report is written
  either way), 2 an input could not be read or the inputs are about different builds.
- ``render``: 0 written, 2 the report could not be read (tampered, invalid, truncated) or written.
- ``diff``: 0 nothing got worse, 1 a regression or a new finding, 2 a report could not be read.
- ``verify``: 0 the report is the one the key's holder signed, 1 it is not (changed, or signed by another
  key), 2 something could not be read (the report, the signature, the key).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from aico_secure.cli.passwords import PASSWORD_ENV, PasswordSourceError, read_password
from aico_secure.conform.report_files import write_atomic
from aico_secure.report import _source, diff, document, formats, merge, signing
from aico_secure.report.document import ReportError
from aico_secure.report.interface import ReportFormat
from aico_secure.report.model import Report
from aico_secure.report.provenance import now


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="report_command", metavar="ACTION")
    names = ", ".join(sorted(formats.FORMATS))
    merge_p = sub.add_parser("merge", help="combine conform, inspect, scan and fuzz results about one build")
    merge_p.add_argument("results", nargs="+", metavar="RESULT",
                         help="a conform report.json, or the JSON of inspect, scan or fuzz --output")
    merge_p.add_argument("--output", required=True, metavar="FILE", help="the merged report (JSON)")
    merge_p.add_argument("--format", action="append", default=[], metavar="FMT",
                         help=f"also write this format next to FILE, FILE with the format's suffix "
                              f"(repeatable: {names})")
    render = sub.add_parser("render", help="render a report in other formats")
    render.add_argument("report", metavar="REPORT")
    render.add_argument("--format", action="append", required=True, metavar="FMT",
                        help=f"output format (repeatable: {names})")
    render.add_argument("--output", metavar="PATH",
                        help="one format: the file (default: standard output); several formats: a path prefix, "
                             "each format written to PATH plus its suffix (out/r -> out/r.md, out/r.html)")
    diff_p = sub.add_parser("diff", help="what got worse between two reports (exit 1 if anything did)",
                            description="Outcomes are ordered pass < waived < not implemented = not run = not "
                                        "tested < fail < error. A regression is a move right, a requirement or "
                                        "source kind the new report no longer has, an added requirement that is "
                                        "not ok, or a report that became incomplete. Exit 1 on any regression or "
                                        "new finding, 0 otherwise, 2 if a report cannot be read.")
    diff_p.add_argument("old", metavar="OLD")
    diff_p.add_argument("new", metavar="NEW")
    diff_p.add_argument("--format", choices=("text", "json"), default="text")
    keygen = sub.add_parser("keygen", help="create an Ed25519 signing key pair, or export the public half of "
                                           "the signing key an AICO keyring holds")
    held = keygen.add_mutually_exclusive_group(required=True)
    held.add_argument("--private", metavar="FILE", help="the private key (created owner-only)")
    held.add_argument("--keyring", metavar="DIR", help="use the keyring's signing key (its \"report-signing\" data "
                                                       "key, created on first use); only the public key is written")
    keygen.add_argument("--public", required=True, metavar="FILE", help="the public key, for verifiers")
    keygen.add_argument("--password-file", metavar="FILE", help=f"with --keyring: the keyring password (else "
                                                                 f"${PASSWORD_ENV} or a prompt)")
    sign = sub.add_parser("sign", help="write a detached signature of a JSON report")
    sign.add_argument("report", metavar="REPORT")
    key = sign.add_mutually_exclusive_group(required=True)
    key.add_argument("--key", metavar="FILE", help="the private key (owner-only PEM)")
    key.add_argument("--keyring", metavar="DIR", help="sign with the signing key the AICO keyring in DIR holds")
    sign.add_argument("--password-file", metavar="FILE", help=f"with --keyring: the keyring password (else "
                                                               f"${PASSWORD_ENV} or a prompt)")
    sign.add_argument("--output", metavar="FILE", help="the signature file (default: REPORT.sig)")
    verify = sub.add_parser("verify", help="check a report against its signature and a public key")
    verify.add_argument("report", metavar="REPORT")
    verify.add_argument("--pubkey", required=True, metavar="FILE")
    verify.add_argument("--signature", metavar="FILE", help="the signature file (default: REPORT.sig)")


def run(args: argparse.Namespace) -> int:
    action = args.report_command
    if action is None:
        raise signing.SigningError("name an action: merge, render, diff, keygen, sign, verify")
    if action == "merge":
        return _merge(args)
    if action == "render":
        return _render(args)
    if action == "diff":
        return _diff(args)
    if action == "keygen":
        if args.keyring:
            print(f"key id {signing.write_public(_keyring_key(args), Path(args.public))}")
        else:
            print(f"key id {signing.generate(Path(args.private), Path(args.public))}")
        return 0
    report = Path(args.report)
    if action == "sign":
        private = _keyring_key(args) if args.keyring else signing.load_private(Path(args.key))
        signed = signing.sign(report, private)
        target = Path(args.output or f"{args.report}.sig")
        try:
            write_atomic(target, json.dumps(signed, indent=2) + "\n")
        except OSError as exc:
            raise signing.SigningError(f"cannot write the signature {target}: {exc.strerror or exc}") from None
        print(f"signed {report} with key {signed['key_id']}: {target}")
        return 0
    verdict = signing.verify(report, Path(args.signature or f"{args.report}.sig"),
                             signing.load_public(Path(args.pubkey)))
    print(f"{'intact' if verdict.intact else 'NOT INTACT'}: {report}: {verdict.reason}")
    return 0 if verdict.intact else 1


def _keyring_key(args: argparse.Namespace) -> Ed25519PrivateKey:
    try:
        password = read_password(args.password_file)
    except PasswordSourceError as exc:
        raise signing.SigningError(str(exc)) from None
    return signing.keyring_private(Path(args.keyring), password)


def _formats(names: list[str]) -> list[ReportFormat]:
    """Each named format once (``md`` and ``markdown`` are one), or one line naming the unknown one."""
    chosen: dict[str, ReportFormat] = {}
    for name in names:
        try:
            fmt = formats.get(name)
        except ValueError as exc:
            raise ReportError(str(exc)) from None
        chosen.setdefault(fmt.suffix, fmt)
    return list(chosen.values())


def _write_all(texts: dict[Path, str], inputs: list[Path]) -> None:
    """Every file or none of them, never over an input: everything is rendered before the first write."""
    from aico_secure.conform.report_files import write_atomic

    protected = {p.resolve() for p in inputs}
    for path in texts:
        if path.resolve() in protected:
            raise ReportError(f"refusing to overwrite the input {path}")
    written: list[Path] = []
    try:
        for path, text in texts.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(path, text)
            written.append(path)
    except OSError as exc:
        for path in written:
            path.unlink(missing_ok=True)
        raise ReportError(f"cannot write {path}: {exc.strerror or exc}") from None


def _merge(args: argparse.Namespace) -> int:
    started_at = now()
    inputs = [Path(name) for name in args.results]
    merged = merge.merge([(path, _source.load(path)) for path in inputs], started_at=started_at)
    output = Path(args.output)
    texts = {output: document.dump(merged)}
    for fmt in _formats(args.format):
        if fmt.suffix != ".json":
            texts[output.with_suffix(fmt.suffix)] = fmt.render(merged)
    _write_all(texts, inputs)
    print(f"merged {len(inputs)} result(s) into {output}: {merged.verdict.value} "
          f"({len(merged.verdicts)} requirement(s), {len(merged.findings)} finding(s), "
          f"{len(merged.sources)} source run(s){'' if merged.complete else ', incomplete'})")
    return 0 if merged.ok else 1


def _render(args: argparse.Namespace) -> int:
    source = Path(args.report)
    report: Report = document.load(source)
    chosen = _formats(args.format)
    rendered = [(fmt, fmt.render(report)) for fmt in chosen]
    if args.output is None:
        if len(rendered) > 1:
            raise ReportError("several formats need --output PREFIX (each written to PREFIX plus its suffix)")
        sys.stdout.write(rendered[0][1])
        return 0
    output = Path(args.output)
    if len(rendered) == 1:
        texts = {output: rendered[0][1]}
    else:
        texts = {output.with_name(output.name + fmt.suffix): text for fmt, text in rendered}
    _write_all(texts, [source])
    for path in texts:
        print(f"wrote {path}")
    return 0


def _diff(args: argparse.Namespace) -> int:
    old, new = Path(args.old), Path(args.new)
    result = diff.diff(_source.load(old), _source.load(new))
    render = diff.render_json if args.format == "json" else diff.render_text
    sys.stdout.write(render(result, str(old), str(new)))
    return result.exit_code
