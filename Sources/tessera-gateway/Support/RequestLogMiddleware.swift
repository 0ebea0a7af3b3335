import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// Logs every request once, with its trace id (Hummingbird's request id, also sent back in
/// `x-trace-id`), method, path, status and duration. Never a header or a body: they carry
/// passwords and tokens.
struct RequestLogMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        let traceID = context.id
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as any HTTPResponseError {
            response = try error.response(from: request, context: context)
        }
        response.headers[.traceID] = traceID
        let elapsed = ContinuousClock.now - started
        let micros = elapsed.components.seconds * 1_000_000 + elapsed.components.attoseconds / 1_000_000_000_000
        context.logger.info(
            "request",
            metadata: [
                "trace.id": "\(traceID)", "http.method": "\(request.method)", "http.path": "\(request.uri.path)",
                "http.status": "\(response.status.code)", "duration.us": "\(micros)",
            ])
        return response
    }
}

extension HTTPField.Name {
    static let traceID = HTTPField.Name("x-trace-id")!
}
