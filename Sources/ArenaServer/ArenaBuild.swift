/// What this build of Arena is, for `arena --version` and the `arena_build_info` metric.
public enum ArenaBuild {
    public static let version = "0.9.0"
}
