"""`drctl evidence keygen | verify | anchor`: the signing key, checking packages and the chain;
`drctl keys create`: the site's manifest signing key (recovery points, not evidence).

`verify` always prints who signed (the key's fingerprint) and says ok only when that key is
trusted: given with --public-key/--fingerprint (what an auditor got out of band), else pinned
in dr.yml `evidence.trusted_fingerprints`. A valid signature by any other key is exit 1. A
config named with -c must exist (exit 2); only the default ./dr.yml may be absent.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from orchestrator.actions.evidence_setup import open_anchor, pinned_trust, prepare_evidence
from orchestrator.actions.point_trust import create_manifest_key
from orchestrator.cli.call import Call
from orchestrator.config import LoadedConfig, load_config
from orchestrator.errors import ExitCode, InputError
from orchestrator.evidence import sign
from orchestrator.evidence.chain_check import check_chain
from orchestrator.evidence.package import anchor_evidence
from orchestrator.evidence.verify import check_package, trust_public_key

FINGERPRINT = re.compile(r"^[0-9a-f]{64}$")


def _refuse_existing(path: Path) -> None:
    """Raise InputError when a signing key is already at path (never overwritten)."""
    if path.exists():
        existing = sign.fingerprint(sign.load_signing_key(path))
        raise InputError(str(path), [f"{path} exists (its fingerprint is {existing})"])


def _config(call: Call, *, required: bool) -> LoadedConfig | None:
    """Return the site config, or None when it is not required and there is none: no -c and
    no ./dr.yml. Raise InputError (exit 2) when the file -c names does not exist."""
    if not call.uses_site_config and not required:
        return None
    return call.site().config


def resolve_trust(args: argparse.Namespace, config: LoadedConfig | None) -> dict[str, str]:
    """Return the trusted fingerprints: --public-key and --fingerprint when given, else the
    ones dr.yml pins (none without a config). Raise InputError on a bad key or fingerprint."""
    trust: dict[str, str] = {}
    for key in args.public_key or ():
        try:
            trust.update(trust_public_key(Path(key)))
        except ValueError as error:
            raise InputError("command line", [f"--public-key: {error}"]) from error
    for index, value in enumerate(args.fingerprint or ()):
        if not FINGERPRINT.match(value):
            raise InputError(
                "command line", [f"--fingerprint {value!r}: expected 64 lower-case hex digits"]
            )
        trust[value] = f"--fingerprint[{index}]"
    if trust or config is None:
        return trust
    return pinned_trust(config)


def keygen(call: Call) -> int:
    output = call.args.output
    path = Path(output) if output else load_config(call.config_path).signing_key
    if call.args.dry_run:
        _refuse_existing(path)
        call.out.emit(
            {"dry_run": True, "key": str(path)},
            f"would create {path} (ed25519, mode 0600) and its .pub.pem; nothing written",
        )
        return ExitCode.OK
    try:
        key = sign.create_signing_key(path)
    except FileExistsError as error:
        existing = sign.fingerprint(sign.load_signing_key(path))
        raise InputError(str(path), [f"{error} (its fingerprint is {existing})"]) from error
    public = path.with_name(path.name.removesuffix(".pem") + ".pub.pem")
    public.write_bytes(sign.public_key_pem(key))
    fingerprint = sign.fingerprint(key)
    call.out.emit(
        {"key": str(path), "public_key": str(public), "fingerprint": fingerprint},
        f"created {path} (ed25519, mode 0600) and {public}\n"
        f"fingerprint: {fingerprint}\n"
        "pin it in dr.yml, then give the auditors the fingerprint (or the .pub.pem) through "
        "another channel than the packages:\n"
        f"evidence:\n  trusted_fingerprints:\n    - {fingerprint}",
    )
    return ExitCode.OK


def verify(call: Call) -> int:
    if call.args.chain:
        return _verify_chain(call)
    if not call.args.path:
        raise InputError("command line", ["evidence verify: PATH is required without --chain"])
    trust = resolve_trust(call.args, _config(call, required=False))
    check = check_package(Path(call.args.path), trust)
    lines = list(check.problems)
    problems = f"{len(check.problems)} problem(s)"
    if check.signer_fingerprint is None:
        verdict = "signer unknown"
    elif not check.signature_valid:
        lines.append(f"signer: {check.signer_fingerprint} (signature does NOT verify)")
        verdict = problems
    elif check.trusted_by is None:
        lines.append(
            f"signer: {check.signer_fingerprint} NOT TRUSTED: the signature is valid, but this "
            "key is not one you trust; give --public-key or --fingerprint with the bank's key "
            "(obtained out of band), or pin it in dr.yml evidence.trusted_fingerprints"
        )
        verdict = "signer not trusted" + (f", {problems}" if check.problems else "")
    else:
        lines.append(f"signer: {check.signer_fingerprint} (trusted: {check.trusted_by})")
        verdict = "ok" if not check.problems else problems
    lines.append(f"summary: {call.args.path}: {verdict}")
    lines.append("小结：" + ("证据包校验通过，签名者可信" if check.ok else "证据包未通过校验"))
    data = {
        "ok": check.ok,
        "path": call.args.path,
        "problems": check.problems,
        "signer_fingerprint": check.signer_fingerprint,
        "signature_valid": check.signature_valid,
        "trusted": check.trusted_by is not None,
        "trusted_by": check.trusted_by,
    }
    call.out.emit(data, "\n".join(lines))
    return ExitCode.OK if check.ok else ExitCode.CHECK_FAILED


def _verify_chain(call: Call) -> int:
    config = _config(call, required=True)
    assert config is not None
    directory = Path(call.args.path) if call.args.path else config.evidence_dir
    if not directory.is_dir():
        raise InputError("command line", [f"evidence verify --chain: {directory}: no directory"])
    result = check_chain(directory, resolve_trust(call.args, config), open_anchor(config))
    signers = ", ".join(f"{fp} ({count})" for fp, count in sorted(result.signers.items()))
    lines = [
        *result.problems,
        f"chain: {result.packages} package(s) in {directory}; signers: {signers or 'none'}",
        f"anchor: {result.anchors} anchor(s) in {result.anchor_where} ({result.anchor_guarantee})",
        f"summary: {directory}: " + ("ok" if result.ok else f"{len(result.problems)} problem(s)"),
    ]
    data = {
        "ok": result.ok,
        "directory": str(directory),
        "packages": result.packages,
        "anchors": result.anchors,
        "anchor": result.anchor_where,
        "anchor_guarantee": result.anchor_guarantee,
        "signers": result.signers,
        "problems": result.problems,
    }
    call.out.emit(data, "\n".join(lines))
    return ExitCode.OK if result.ok else ExitCode.CHECK_FAILED


def anchor(call: Call) -> int:
    setup = prepare_evidence(call.site().config)
    dry_run = call.args.dry_run
    written = anchor_evidence(setup.directory, setup.anchor, dry_run=dry_run)
    verb = "would anchor" if dry_run else "anchored"
    call.out.emit(
        {"anchor": setup.anchor.where, "written": written, "dry_run": dry_run},
        "\n".join(f"{verb} {name}" for name in written)
        + f"\nsummary: {len(written)} anchor(s) "
        + ("to write (dry run, nothing written) to " if dry_run else "written to ")
        + setup.anchor.where,
    )
    return ExitCode.OK


def create_key(call: Call) -> int:
    """`drctl keys create`: create the manifest signing key; print the public key to pin."""
    site = call.site()
    if call.args.dry_run:
        section = site.config.model.manifest_signing
        if section is None:
            raise InputError(
                str(site.config.path), ["manifest_signing: not configured (add the section)"]
            )
        target = site.config.resolve(section.key)
        _refuse_existing(target)
        call.out.emit(
            {"dry_run": True, "key": str(target)},
            f"would create the manifest signing key {target} (mode 0600); nothing written",
        )
        return ExitCode.OK
    path, line = create_manifest_key(site.config)
    call.out.emit(
        {"key": path, "public_key": line},
        f"created the manifest signing key {path} (mode 0600; keep a copy where the "
        "disaster-recovery site can reach it)\npin its public key in dr.yml:\n"
        f"manifest_signing:\n  key: {path}\n  public_key: {line}",
    )
    return ExitCode.OK
