"""``aico-secure report``: sign a report and verify a signed one; the rest of the report commands are not built
yet and say so (exit 2).

Exit codes of ``verify``: 0 the report is the one the key's holder signed, 1 it is not (changed, or signed by
another key), 2 something could not be read (the report, the signature, the key).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from aico_secure.report import signing

NOT_BUILT = ("merge", "render", "diff")


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="report_command", metavar="ACTION")
    keygen = sub.add_parser("keygen", help="create an Ed25519 signing key pair")
    keygen.add_argument("--private", required=True, metavar="FILE", help="the private key (created owner-only)")
    keygen.add_argument("--public", required=True, metavar="FILE", help="the public key, for verifiers")
    sign = sub.add_parser("sign", help="write a detached signature of a JSON report")
    sign.add_argument("report", metavar="REPORT")
    sign.add_argument("--key", required=True, metavar="FILE", help="the private key (owner-only PEM)")
    sign.add_argument("--output", metavar="FILE", help="the signature file (default: REPORT.sig)")
    verify = sub.add_parser("verify", help="check a report against its signature and a public key")
    verify.add_argument("report", metavar="REPORT")
    verify.add_argument("--pubkey", required=True, metavar="FILE")
    verify.add_argument("--signature", metavar="FILE", help="the signature file (default: REPORT.sig)")
    for name in NOT_BUILT:
        pending = sub.add_parser(name, help="not built yet")
        pending.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)


def run(args: argparse.Namespace) -> int:
    action = args.report_command
    if action is None:
        raise signing.SigningError("name an action: keygen, sign, verify")
    if action in NOT_BUILT:
        print(f"aico-secure report {action}: not available yet (only keygen, sign and verify are built)",
              file=sys.stderr)
        return 2
    if action == "keygen":
        print(f"key id {signing.generate(Path(args.private), Path(args.public))}")
        return 0
    report = Path(args.report)
    if action == "sign":
        document = signing.sign(report, signing.load_private(Path(args.key)))
        target = Path(args.output or f"{args.report}.sig")
        target.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
        print(f"signed {report} with key {document['key_id']}: {target}")
        return 0
    verdict = signing.verify(report, Path(args.signature or f"{args.report}.sig"),
                             signing.load_public(Path(args.pubkey)))
    print(f"{'intact' if verdict.intact else 'NOT INTACT'}: {report}: {verdict.reason}")
    return 0 if verdict.intact else 1
