/**
 * The keys ape-dts knows (read from its task_config.rs) that ferry does not turn into typed TaskConfig
 * fields, so that every key of a config is either used, passed on, or reported -- never silently dropped.
 */

/**
 * Engine-specific keys of [extractor]/[sinker]: kept in `raw` for the connector to read and validate
 * (server_id, slot_name...). No warning: whether they apply depends on the connector.
 */
export const CONNECTOR_KEYS: Record<'extractor' | 'sinker', ReadonlySet<string>> = {
  extractor: new Set([
    // mysql cdc
    'server_id', 'binlog_filename', 'binlog_position', 'gtid_enabled', 'gtid_set', 'binlog_heartbeat_interval_secs',
    'binlog_timeout_secs', 'keepalive_idle_secs',
    // pg cdc
    'slot_name', 'pub_name', 'start_lsn', 'recreate_slot_if_exists', 'ddl_meta_tb',
    // cdc, shared
    'heartbeat_interval_secs', 'heartbeat_tb', 'keepalive_interval_secs', 'start_time_utc', 'end_time_utc',
    // connection
    'connection_timeout_secs', 'app_name', 'ssl_mode', 'ssl_root_cert', 'ssl_cert', 'ssl_key', 'is_direct_connection',
    // mongo / redis / kafka / check / struct
    'source', 'resume_token', 'start_timestamp', 'repl_port', 'repl_id', 'repl_offset', 'heartbeat_key', 'now_db_id',
    'is_cluster', 'file_path', 'statistic_type', 'scan_count', 'group', 'topic', 'partition', 'offset',
    'ack_interval_secs', 'check_log_dir', 'db_batch_size',
  ]),
  sinker: new Set([
    'transaction_isolation', 'connection_timeout_secs', 'app_name', 'ssl_mode', 'ssl_root_cert',
    'ssl_cert', 'ssl_key', 'is_direct_connection', 'is_cluster', 'mongo_require_shard_key_filter', 'ack_timeout_secs',
    'required_acks', 'with_field_defs', 'method', 'stream_load_url', 'hard_delete', 'engine', 'reverse',
    'statistic_type', 'data_size_threshold', 'freq_threshold', 'statistic_log_dir',
    // ferry: clickhouse
    'clickhouse_format',
  ]),
};

/** ape-dts keys ferry reads but does not act on yet: a set value gets a warning. */
export const NOT_IMPLEMENTED: Record<string, ReadonlySet<string>> = {
  extractor: new Set(['max_rps', 'max_mbps']),
  sinker: new Set(['max_rps', 'max_mbps']),
  filter: new Set(['do_dcls', 'ignore_cmds']),
  router: new Set([]),
  pipeline: new Set(['batch_sink_interval_secs', 'counter_time_window_secs', 'counter_max_sub_count', 'max_rps', 'pipeline_type']),
  parallelizer: new Set([
    'rebalance_strategy', 'rebalance_cost', 'rebalance_max_partitions_per_sinker', 'rebalance_min_partition_rows',
    'rebalance_split_skew_ratio',
  ]),
  runtime: new Set(['log4rs_file', 'check_result_stdout_only']),
  global: new Set([]),
  resumer: new Set([
    'resume_type', 'log_dir', 'config_file', 'url', 'db_type', 'username', 'password', 'table_full_name',
    'max_connections', 'is_direct_connection', 'resume_from_log', 'resume_log_dir', 'resume_config_file',
  ]),
  checkpoint: new Set([]),
};

/** ape-dts sections ferry has no counterpart for yet: any key set there gets one warning per section. */
export const NOT_IMPLEMENTED_SECTIONS: ReadonlySet<string> = new Set([
  'data_marker', 'processor', 'checker', 'checker_output', 'checker_cdc', 'metacenter', 'tracing', 'metrics', 'precheck',
]);

/** Why a not-implemented section or key is ignored, for the warning text. */
export const NOT_IMPLEMENTED_HINT: Record<string, string> = {
  resumer: 'ferry resumes from its [checkpoint] store',
  log4rs_file: 'ferry logs JSON lines; see runtime.log_dir',
};
