import Logging

/// The daemon's log handler: formats each line on the caller's thread, passes it through the
/// ``LogRateLimiter`` and hands it to the ``LogWriter``, which writes it from its own thread.
///
/// Line format: `timestamp level label : key=value ... message`, metadata sorted by key; a
/// line that follows held-back ones of the same message carries `log.suppressed=N`.
package struct LineLogHandler: LogHandler {
    package var logLevel: Logger.Level = .info
    package var metadata: Logger.Metadata = [:]
    package var metadataProvider: Logger.MetadataProvider?
    let label: String
    let writer: LogWriter
    let limiter: LogRateLimiter

    package init(label: String, writer: LogWriter, limiter: LogRateLimiter) {
        self.label = label
        self.writer = writer
        self.limiter = limiter
    }

    package subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    package func log(event: LogEvent) {
        guard let suppressed = limiter.admit(event.message.description) else { return }
        var all = metadata
        if let provided = metadataProvider?.get() { all.merge(provided) { $1 } }
        if let extra = event.metadata { all.merge(extra) { $1 } }
        if suppressed > 0 { all["log.suppressed"] = "\(suppressed)" }
        var line = "\(LogWriter.timestamp()) \(event.level) \(label) :"
        for (key, value) in all.sorted(by: { $0.key < $1.key }) { line += " \(key)=\(value)" }
        line += " \(event.message)\n"
        writer.write(Array(line.utf8))
    }
}
