import ArenaMixer
import ArenaSpec
import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import Logging
import PostgresNIO

/// An API failure: the HTTP status and one message naming the field, resource or rule at
/// fault, sent as `{"error": {"status": 404, "message": "..."}}`. Nothing changed.
struct APIError: Error, HTTPResponseError {
    let status: HTTPResponse.Status
    let message: String

    /// `message` is kept to one line of at most 300 characters: whatever value it repeats (a
    /// user id from the session's refusal, say) has its control characters escaped and is cut.
    init(_ status: HTTPResponse.Status, _ message: String) {
        self.status = status
        let line = Redaction.oneLine(message)
        self.message = line.count > 300 ? line.prefix(299) + "…" : line
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = JSONResponse(["error": ["status": .int(Int(status.code)), "message": .string(message)]], status: status).response
        // The rest of a body too large is never read: the connection ends with this answer.
        if status == .contentTooLarge { response.headers[.connection] = "close" }
        return response
    }
}

/// A field of a request body that is missing or wrong: 400, naming the field.
extension SpecError: HTTPResponseError {
    public var status: HTTPResponse.Status { .badRequest }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        try APIError(.badRequest, description).response(from: request, context: context)
    }
}

/// Failures that are not the caller's get one clear line too, not an empty 500: a store that
/// cannot be read or written (locked past its timeout, a full disk) is 503, try again; the
/// details go to the log, with the request's id.
struct ServiceFailures<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let logger = context.logger
        do {
            return try await next(request, context)
        } catch let error as any HTTPResponseError {
            throw error
        } catch let error as DatabaseError {
            logger.error("\(request.method) \(request.uri.path): the store failed: \(error)")
            throw APIError(.serviceUnavailable, "the store is unavailable (\(Redaction.oneLine(error.message ?? "SQLite error \(error.resultCode.rawValue)"))); try again")
        } catch let error as PSQLError {
            // The details (which may name the database's host) go to the log only.
            logger.error("\(request.method) \(request.uri.path): the store failed: \(PostgresStore.reason(error))")
            throw APIError(.serviceUnavailable, "the store is unavailable; try again")
        } catch let error as StoreError {
            logger.error("\(request.method) \(request.uri.path): the store failed: \(error)")
            throw APIError(.serviceUnavailable, "the store is unavailable; try again")
        } catch {
            logger.error("\(request.method) \(request.uri.path): \(error)")
            throw APIError(.internalServerError, "the service failed (\(type(of: error))); try again")
        }
    }
}

/// A JSON body built from plain values, so responses need no Codable types of their own.
indirect enum JSON: Sendable, Equatable, ExpressibleByDictionaryLiteral, ExpressibleByArrayLiteral, ExpressibleByStringLiteral {
    case null, int(Int), double(Double), string(String), array([JSON]), object([(String, JSON)])
    /// JSON text made elsewhere (an encoded value), inserted as it is.
    case raw(String)

    init(dictionaryLiteral elements: (String, JSON)...) { self = .object(elements) }
    init(arrayLiteral elements: JSON...) { self = .array(elements) }
    init(stringLiteral value: String) { self = .string(value) }

    static func == (lhs: JSON, rhs: JSON) -> Bool { lhs.text == rhs.text }

    /// Compact JSON text; object keys keep their order.
    var text: String {
        switch self {
        case .null: return "null"
        case .int(let value): return String(value)
        case .double(let value): return value.isFinite ? String(value) : "null"
        case .string(let value): return Self.quoted(value)
        case .array(let items): return "[" + items.map(\.text).joined(separator: ",") + "]"
        case .object(let fields): return "{" + fields.map { Self.quoted($0.0) + ":" + $0.1.text }.joined(separator: ",") + "}"
        case .raw(let text): return text
        }
    }

    private static func quoted(_ string: String) -> String {
        var out = "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

/// A JSON response.
struct JSONResponse: ResponseGenerator {
    /// The body as sent.
    let text: String
    let status: HTTPResponse.Status

    init(_ body: JSON, status: HTTPResponse.Status = .ok) {
        text = body.text
        self.status = status
    }

    /// A body recorded earlier, sent as it was.
    init(rawJSON: String, status: HTTPResponse.Status) {
        text = rawJSON
        self.status = status
    }

    var response: Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: text + "\n")))
    }

    func response(from request: Request, context: some RequestContext) throws -> Response { response }
}

/// Logs each request at debug level: method, path and request id. Not the query, which may
/// carry a secret (the reference service's callers put their `usersig` there).
struct RequestLog<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        context.logger.debug("Request", metadata: ["hb.request.method": .string(request.method.rawValue), "hb.request.path": .string(request.uri.path)])
        return try await next(request, context)
    }
}
