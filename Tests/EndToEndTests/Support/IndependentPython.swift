import Foundation
import TestSupport
import XCTest

/// A Python with the independent checkers the tests compare Tessera against (joserfc for JWTs,
/// pyotp for TOTP codes, bcrypt, passlib and argon2-cffi for the hashes other systems store),
/// installed from PyPI into one virtual environment, made once per machine.
enum IndependentPython {
    static let packages = ["joserfc", "pyotp", "bcrypt", "passlib", "argon2-cffi"]
    /// What each package is imported as.
    static let modules = ["joserfc", "pyotp", "bcrypt", "passlib", "argon2"]

    /// The interpreter, with every package of ``packages`` importable.
    static func interpreter() throws -> String {
        let venv = NSTemporaryDirectory() + "tessera-independent-venv"
        let python = venv + "/bin/python"
        let imports = "import " + modules.joined(separator: ", ")
        if FileManager.default.isExecutableFile(atPath: python), try runCommand(python, ["-c", imports]).status == 0 { return python }
        let create = try runCommand("/usr/bin/env", ["python3", "-m", "venv", venv])
        XCTAssertEqual(create.status, 0, "python3 -m venv (scripts/install-deps installs python3-venv): \(create.stderr)")
        let install = try runCommand(python, ["-m", "pip", "install", "--quiet", "--disable-pip-version-check"] + packages)
        XCTAssertEqual(install.status, 0, "pip install \(packages.joined(separator: " ")): \(install.stderr)")
        return python
    }

    /// The path of a script in `Tests/Independent/`.
    static func script(_ name: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Independent/\(name)").path
    }
}
