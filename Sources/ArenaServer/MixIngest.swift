import ArenaSpec
import Foundation

/// Where a mix's RTP inputs must be sent: the instance's advertised host and each host's
/// ports (RTP and RTCP), from the spec and the hosts its recorded PATCHes added. A platform reads it from
/// `GET /v1/mixes/{id}`, and from the `mix.moved` callback when the mix changed instance.
enum MixIngest {
    static func json(mixId: String, spec: MixSpec, host: String, store: any ArenaStore, dataFolder: URL) async -> JSON {
        var hosts = spec.hosts
        for change in (try? await store.mixChanges(mixId: mixId, after: 0)) ?? [] where change.kind == "patch" {
            guard var fields = try? JSONFields.decode(change.body, source: "patch"), let items = try? fields.array("addHosts") else { continue }
            hosts += items.enumerated().compactMap { index, item in try? MixSpec.host(item, path: "addHosts[\(index)]", relativeTo: dataFolder) }
        }
        return ["host": .string(host), "hosts": .array(hosts.compactMap { host in
            guard case .rtp(let rtp) = host.input else { return nil }
            var fields: [(String, JSON)] = [("userId", .string(host.userId)), ("videoPort", .int(rtp.video.port)),
                                            ("videoRtcpPort", .int(rtp.video.rtcpPort))]
            if let audio = rtp.audio { fields += [("audioPort", .int(audio.port)), ("audioRtcpPort", .int(audio.rtcpPort))] }
            return .object(fields)
        })]
    }
}
