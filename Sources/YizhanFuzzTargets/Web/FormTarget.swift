import Hummingbird
import YizhanCore
import YizhanWeb

/// Form bodies (`application/x-www-form-urlencoded`) as both servers' pages read them:
/// `Forms.decode` (Hummingbird's URLEncodedFormDecoder) into the login form, the manager
/// pages' form and the dashboard's logout form, then the password rules of a login.
///
/// Checks: decoding fails only with the API's `bad_form` error; the values of a decoded
/// form, encoded as a browser encodes them, decode to the same values; a submitted password
/// is accepted exactly when it has no NUL and at most 72 bytes.
enum FormTarget {
    /// Same fields as LoginForm, ManagerPages.Form and Dashboard.LogoutForm (those two are
    /// internal to their modules).
    struct AllFields: Decodable, Equatable {
        var name: String?
        var password: String?
        var csrf: String?
        var amenity: String?
        var status: String?
        var note: String?
    }

    static func run(_ bytes: [UInt8]) throws(InvariantViolation) {
        let text = String(decoding: bytes, as: UTF8.self)
        func decode<T: Decodable>(_ type: T.Type) throws(InvariantViolation) -> T? {
            do {
                return try Forms.decode(type, from: text)
            } catch let e as APIErrorResponse {
                try require(e.body.error == "bad_form", .form, "form rejected with \(e.body.error)")
                return nil
            } catch {
                throw InvariantViolation(target: .form, message: "Forms.decode threw \(Swift.type(of: error)), not APIErrorResponse")
            }
        }
        if let login = try decode(LoginForm.self), let password = login.password {
            let acceptable = !password.utf8.contains(0) && password.utf8.count <= PasswordRules.maximumBytes
            let accepted = (try? PasswordRules.checkSubmitted(password)) != nil
            try require(accepted == acceptable, .form, "password of \(password.utf8.count) bytes accepted: \(accepted)")
        }
        if let all = try decode(AllFields.self) {
            // What a browser sends for these values must decode to them: a password arrives
            // as typed, whatever characters it has.
            let encoded = browserEncoded(all)
            let again: AllFields? = decodeQuietly(AllFields.self, from: encoded)
            try require(again == all, .form, "\(text.debugDescription) → \(encoded.debugDescription) does not decode back")
        }
    }

    /// `application/x-www-form-urlencoded` as browsers write it (the WHATWG URL standard):
    /// `*-._`, ASCII letters and digits as they are, a space as `+`, every other UTF-8 byte
    /// as `%XX`. (Not Hummingbird's URLEncodedFormEncoder, which leaves `+` unescaped, so
    /// its output does not decode back; Yizhan never encodes forms, browsers do.)
    static func browserEncoded(_ form: AllFields) -> String {
        func encode(_ s: String) -> String {
            var out = ""
            for b in s.utf8 {
                switch b {
                case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, UInt8(ascii: "*"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"):
                    out.unicodeScalars.append(Unicode.Scalar(b))
                case 0x20: out += "+"
                default: out += "%" + String(b >> 4, radix: 16, uppercase: true) + String(b & 0xF, radix: 16, uppercase: true)
                }
            }
            return out
        }
        let fields: [(String, String?)] = [("name", form.name), ("password", form.password), ("csrf", form.csrf),
                                           ("amenity", form.amenity), ("status", form.status), ("note", form.note)]
        return fields.compactMap { key, value in value.map { "\(key)=\(encode($0))" } }.joined(separator: "&")
    }

    static func decodeQuietly<T: Decodable>(_ type: T.Type, from text: String) -> T? {
        try? Forms.decode(type, from: text)
    }
}
