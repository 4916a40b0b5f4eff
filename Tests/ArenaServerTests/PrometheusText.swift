import Foundation

/// Metric families of a Prometheus text exposition, as the Prometheus project's own Python
/// client parses it (Debian's python3-prometheus-client): name (counters without `_total`) ->
/// (type, the `route` labels of its samples). Throws with the parser's complaint if it refuses the text.
func prometheusFamilies(_ text: String) throws -> [String: (type: String, routes: Set<String>)] {
    let script = """
        import sys
        from prometheus_client.parser import text_string_to_metric_families
        for family in text_string_to_metric_families(sys.stdin.read()):
            print(family.name, family.type, ",".join(sorted({s.labels.get("route", "") for s in family.samples})))
        """
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
    process.arguments = ["-c", script]
    let (input, output, error) = (Pipe(), Pipe(), Pipe())
    process.standardInput = input
    process.standardOutput = output
    process.standardError = error
    try process.run()
    input.fileHandleForWriting.write(Data(text.utf8))
    try input.fileHandleForWriting.close()
    let printed = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    let complaint = String(decoding: error.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw CocoaError(.formatting, userInfo: [NSLocalizedDescriptionKey: "the Prometheus parser refused /metrics: \(complaint)"])
    }
    var families: [String: (type: String, routes: Set<String>)] = [:]
    for line in printed.split(separator: "\n") {
        let fields = line.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
        guard fields.count == 3 else { continue }
        families[fields[0]] = (fields[1], Set(fields[2].split(separator: ",").map(String.init)))
    }
    return families
}
