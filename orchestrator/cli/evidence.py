"""`drctl evidence keygen | verify | anchor`: the signing key, checking packages and the chain;
`drctl keys create`: the site's manifest signing key (recovery points, not evidence).

`verify` always prints who signed (the key's fingerprint) and says ok only when that key is
trusted: given with --public-key/--fingerprint (what an auditor got out of band), else pinned
in dr.yml `evidence.trusted_fingerprints`. A valid signature by any other key is exit 1. A
key rotated out (--retired-public-key/--retired-fingerprint, else dr.yml
`evidence.retired_fingerprints`) is trusted only for the packages before the first one a
current key signed: `--chain` checks that order (exit 1 otherwise); one package alone does not
show it, so a single package it signed is accepted and said to be signed by a retired key,
its order not checked. A config named with -c must exist (exit 2); only the default ./dr.yml
may be absent.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from orchestrator.actions.evidence_setup import (
    open_anchor,
    pinned_retired,
    pinned_trust,
    prepare_evidence,
)
from orchestrator.actions.point_trust import create_manifest_key
from orchestrator.cli.call import Call
from orchestrator.config import LoadedConfig, load_config
from orchestrator.errors import ExitCode, InputError
from orchestrator.evidence import sign
from orchestrator.evidence.anchor import FileAnchor
from orchestrator.evidence.chain_check import ChainCheck, check_chain
from orchestrator.evidence.layout import CHAIN
from orchestrator.evidence.package import anchor_evidence
from orchestrator.evidence.verify import check_package, trust_public_key

FINGERPRINT = re.compile(r"^[0-9a-f]{64}$")
RETIRED_UNCHECKED = (
    "retired key: this key was rotated out; it is trusted only for the packages before the "
    "first one signed by a current key, and one package does not show its place in the chain: "
    "`drctl evidence verify --chain` checks it"
)
ANCHOR_COPY = (
    "a copy given with --anchor: it proves only what the store it was copied from proves; a "
    "file store's read-only files protect against mistakes, not against an administrator"
)


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
    trust = _command_line_keys(args.public_key, args.fingerprint, "")
    if trust or config is None:
        return trust
    return pinned_trust(config)


def resolve_retired(args: argparse.Namespace, config: LoadedConfig | None) -> dict[str, str]:
    """Return the retired fingerprints: from the command line when it gives any key (current
    or retired), else the ones dr.yml lists. Raise InputError on a bad key or fingerprint."""
    retired = _command_line_keys(args.retired_public_key, args.retired_fingerprint, "retired-")
    for source in retired:
        retired[source] += " (retired)"
    if retired or args.public_key or args.fingerprint or config is None:
        return retired
    return pinned_retired(config)


def _command_line_keys(
    keys: list[str] | None, fingerprints: list[str] | None, prefix: str
) -> dict[str, str]:
    """Given the values of --{prefix}public-key and --{prefix}fingerprint, return the
    fingerprints they name, each with its source. Raise InputError on a bad one."""
    trust: dict[str, str] = {}
    for key in keys or ():
        try:
            trust.update(
                {
                    fp: f"--{prefix}{source[2:]}"
                    for fp, source in trust_public_key(Path(key)).items()
                }
            )
        except ValueError as error:
            raise InputError("command line", [f"--{prefix}public-key: {error}"]) from error
    for index, value in enumerate(fingerprints or ()):
        if not FINGERPRINT.match(value):
            raise InputError(
                "command line",
                [f"--{prefix}fingerprint {value!r}: expected 64 lower-case hex digits"],
            )
        trust[value] = f"--{prefix}fingerprint[{index}]"
    return trust


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
    if call.args.anchor:
        raise InputError("command line", ["evidence verify: --anchor is for --chain only"])
    if not call.args.path:
        raise InputError("command line", ["evidence verify: PATH is required without --chain"])
    if not Path(call.args.path).exists():  # a mistyped path is not a package that failed (1)
        raise InputError("command line", [f"PATH {call.args.path}: no such file or directory"])
    config = _config(call, required=False)
    trust = resolve_trust(call.args, config)
    check = check_package(Path(call.args.path), trust, retired=resolve_retired(call.args, config))
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
        if check.retired:
            lines.append(RETIRED_UNCHECKED)
            verdict += "; signed by a retired key, order not checked without --chain"
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
        "retired": check.retired,
    }
    call.out.emit(data, "\n".join(lines))
    return ExitCode.OK if check.ok else ExitCode.CHECK_FAILED


def _verify_chain(call: Call) -> int:
    """`evidence verify --chain [DIR]`: with DIR, a key on the command line and --anchor it
    needs no config (an auditor offline); the config supplies what is not given.

    With DIR and a key, only a config named with -c is read: a dr.yml that merely sits in the
    current directory may have come with the delivery, and would name the anchor that vouches
    for the end of the chain (a forged copy turns "NOT verified in full" into ok)."""
    directory, trust, anchor_copy = _chain_inputs(call)
    offline = directory is not None and bool(trust) and not call.config_given
    config = None if offline else _config(call, required=True)
    if directory is None:
        assert config is not None
        directory = config.evidence_dir
    if not directory.is_dir():
        # Named where it came from: the command line's DIR, or dr.yml's evidence.directory.
        source = str(config.path) if config is not None and not call.args.path else None
        raise InputError(
            source or "command line",
            [
                f"{'evidence.directory' if source else 'evidence verify --chain'}: {directory}: "
                f"{'not a directory' if directory.exists() else 'no such directory'}; expected "
                f"the evidence directory ({CHAIN} and the packages)"
            ],
        )
    anchor = anchor_copy or (open_anchor(config) if config is not None else None)
    retired = resolve_retired(call.args, config)
    result = check_chain(directory, trust or resolve_trust(call.args, config), anchor, retired)
    call.out.emit(_chain_data(result), "\n".join(_chain_lines(result)))
    return ExitCode.OK if result.ok else ExitCode.CHECK_FAILED


def _chain_inputs(call: Call) -> tuple[Path | None, dict[str, str], FileAnchor | None]:
    """Return what the command line gives --chain: the directory, the trusted keys and a copy
    of the anchor. Raise InputError (exit 2) when a key or --anchor is not what is expected,
    or when neither the command line nor a config gives the directory or a trusted key."""
    directory = Path(call.args.path) if call.args.path else None
    trust = resolve_trust(call.args, None)
    anchor = None
    if call.args.anchor:
        copy = Path(call.args.anchor)
        if not copy.is_dir():
            raise InputError(
                "command line",
                [
                    f"--anchor {copy}: no such directory; expected a copy of the chain's file "
                    "anchor (its NNNNNNNN-<package>.json files, read-only)"
                ],
            )
        anchor = FileAnchor(copy, ANCHOR_COPY)
    if not call.uses_site_config and not (directory and trust):
        wanted = [] if directory else ["the evidence directory (DIR)"]
        wanted += [] if trust else ["the trusted key (--public-key FILE or --fingerprint HEX)"]
        raise InputError(
            "command line",
            [
                f"evidence verify --chain: give {' and '.join(wanted)}, or the site config "
                f"(-c FILE; there is no dr.yml in {Path.cwd()})"
            ],
        )
    return directory, trust, anchor


def _chain_lines(result: ChainCheck) -> list[str]:
    """Return the text of `evidence verify --chain`: problems, what was checked and what was
    NOT, and a summary that claims no more than was checked."""
    signers = ", ".join(
        f"{fp} ({count}{', retired' if fp in result.retired_signers else ''})"
        for fp, count in sorted(result.signers.items())
    )
    lines = [
        *result.problems,
        f"chain: {result.packages} package(s) in {result.directory}; signers: {signers or 'none'}",
    ]
    if result.anchor_where is None:
        lines.append("anchor: none given (--anchor DIR, or -c with the site's dr.yml)")
    else:
        lines.append(
            f"anchor: {result.anchors} anchor(s) in {result.anchor_where} "
            f"({result.anchor_guarantee})"
        )
    lines += [f"NOT checked: {item}" for item in result.not_checked]
    if result.ok:
        verdict, chinese = "ok", "证据链校验通过"
    elif result.problems:
        verdict, chinese = f"{len(result.problems)} problem(s)", "证据链未通过校验"
    else:
        verdict, chinese = "no problem found in what was checked", "已核验部分未发现问题"
    if result.not_checked:
        verdict += "; NOT verified in full: see NOT checked"
        chinese += "；未完整校验：未提供锚点，无法证明链尾的证据包未被删除"
    return [*lines, f"summary: {result.directory}: {verdict}", f"小结：{chinese}"]


def _chain_data(result: ChainCheck) -> dict[str, object]:
    """Return the JSON of `evidence verify --chain`."""
    return {
        "ok": result.ok,
        "directory": str(result.directory),
        "packages": result.packages,
        "anchors": result.anchors,
        "anchor": result.anchor_where,
        "anchor_guarantee": result.anchor_guarantee,
        "signers": result.signers,
        "retired_signers": sorted(result.retired_signers),
        "first_current": result.first_current,
        "problems": result.problems,
        "not_checked": result.not_checked,
    }


def anchor(call: Call) -> int:
    setup = prepare_evidence(call.site().config)
    dry_run = call.args.dry_run
    written = anchor_evidence(setup.directory, setup.anchor, setup.signing_key, dry_run=dry_run)
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
