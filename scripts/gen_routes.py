#!/usr/bin/python3
"""Generate esgate's Elasticsearch route table.

Usage:
    /usr/bin/python3 scripts/gen_routes.py /work/shared/data/es-endpoints.tsv \
        > gateway/es/routes_generated.cpp

Input: the endpoint list taken from elastic/elasticsearch-specification (columns: name, methods,
path, index_privileges, cluster_privileges, request_media_type, availability).
Output: a C++ source with one `endpoint` per row (include/esgate/es/routes.hpp). The output is
committed so that a build never needs the data folder.

Besides the spec's annotations, every row gets the transport action ES runs for it and what
the gateway must authorize, from RULES below (the project's own knowledge). Origins:
  es       - the real ES action name (ES sources / operator-privileges action list / reference §6)
  derived  - not known exactly: a plausible name that the spec-annotated privilege grants
Rows without a rule are `unclassified` (denied unless the identity holds cluster `all`).
The script fails (exit 1) on rules that name no row, on unknown rule keys and on
inconsistent data, so a new spec file cannot silently drop a mapping.
"""

import re
import sys

ES, DERIVED = "es", "derived"

KINDS = ("cluster", "index", "index_name_only", "served", "always", "unclassified")
BODIES = ("none", "bulk", "msearch", "docs", "reindex", "query_language", "pit",
          "alias_actions", "index_aliases", "opaque")
CONTEXTS = ("none", "scroll", "pit", "async_search", "eql_async", "esql_async", "sql_async",
            "sql_cursor", "task")
OP_TYPES = ("none", "default_index", "default_create")
KEYS = {"action", "origin", "kind", "index_param", "second", "multi", "body", "target_action",
        "cluster_action", "context", "context_param", "op_type"}


def r(action, **kw):
    """A real ES action."""
    return dict(action=action, origin=ES, **kw)


def d(action, **kw):
    """A derived (plausible) action."""
    return dict(action=action, origin=DERIVED, **kw)


SEARCH = "indices:data/read/search"
GET = "indices:data/read/get"

# name -> rule. Rules may be refined per (name, path) in PATH_RULES.
RULES = {
    # --- root -------------------------------------------------------------------------------
    "info": r("cluster:monitor/main"),
    "ping": r("cluster:monitor/main"),
    "capabilities": r("cluster:monitor/nodes/capabilities"),
    "xpack.info": r("cluster:monitor/xpack/info"),
    "xpack.usage": r("cluster:monitor/xpack/usage"),
    "health_report": r("cluster:monitor/health_api"),
    # --- documents ----------------------------------------------------------------------------
    "get": r(GET, multi=False),
    "get_source": r(GET, multi=False),
    "exists": r(GET, multi=False),
    "exists_source": r(GET, multi=False),
    "explain": r("indices:data/read/explain", multi=False),
    "termvectors": r("indices:data/read/tv", multi=False),
    "mtermvectors": r("indices:data/read/mtv", kind="index_name_only", multi=False, body="docs",
                      target_action="indices:data/read/mtv[shard]"),
    "mget": r("indices:data/read/mget", kind="index_name_only", multi=False, body="docs",
              target_action="indices:data/read/mget[shard]"),
    "index": r("indices:data/write/index:op_type/index", multi=False, op_type="default_index"),
    "create": r("indices:data/write/index:op_type/create", multi=False),
    "update": r("indices:data/write/update", multi=False),
    "delete": r("indices:data/write/delete", multi=False),
    "bulk": r("indices:data/write/bulk", kind="index_name_only", multi=False, body="bulk"),
    "delete_by_query": r("indices:data/write/delete/byquery", target_action=SEARCH),
    "update_by_query": r("indices:data/write/update/byquery", target_action=SEARCH),
    "reindex": r("indices:data/write/reindex", kind="index_name_only", body="reindex"),
    "delete_by_query_rethrottle": r("cluster:admin/reindex/rethrottle", context="task",
                                    context_param="task_id"),
    "update_by_query_rethrottle": r("cluster:admin/reindex/rethrottle", context="task",
                                    context_param="task_id"),
    "reindex_rethrottle": r("cluster:admin/reindex/rethrottle", context="task",
                            context_param="task_id"),
    # --- search -------------------------------------------------------------------------------
    "search": r(SEARCH, body="pit"),
    "count": r(SEARCH),
    "msearch": r("indices:data/read/msearch", kind="index_name_only", body="msearch",
                 target_action=SEARCH),
    "search_template": r("indices:data/read/search/template", kind="index_name_only",
                         target_action=SEARCH),
    "msearch_template": r("indices:data/read/msearch/template", kind="index_name_only",
                          body="msearch", target_action=SEARCH),
    "render_search_template": r("indices:data/read/search/template", kind="index_name_only",
                                target_action=SEARCH),
    "search_mvt": r(SEARCH),
    "knn_search": r(SEARCH),
    "rank_eval": r("indices:data/read/rank_eval"),
    "field_caps": r("indices:data/read/field_caps"),
    "terms_enum": r("indices:data/read/xpack/termsenum/list"),
    "search_shards": r("indices:admin/shards/search_shards"),
    "graph.explore": r("indices:data/read/xpack/graph/explore"),
    "scroll": r("indices:data/read/scroll", kind="index_name_only", context="scroll",
                context_param="scroll_id"),
    "clear_scroll": r("indices:data/read/scroll/clear", kind="always", context="scroll",
                      context_param="scroll_id"),
    "open_point_in_time": r("indices:data/read/open_point_in_time"),
    "close_point_in_time": r("indices:data/read/close_point_in_time", kind="always",
                             context="pit"),
    "async_search.submit": r("indices:data/read/async_search/submit", body="pit",
                             target_action=SEARCH),
    "async_search.get": r("indices:data/read/async_search/get", kind="index_name_only",
                          context="async_search", context_param="id"),
    "async_search.delete": r("indices:data/read/async_search/delete", kind="index_name_only",
                             context="async_search", context_param="id"),
    "async_search.status": r("cluster:monitor/async_search/status", context="async_search",
                             context_param="id"),
    "eql.search": r("indices:data/read/eql"),
    "eql.get": r("indices:data/read/eql/async/get", kind="index_name_only",
                 context="eql_async", context_param="id"),
    "eql.delete": r("indices:data/read/async_search/delete", kind="index_name_only",
                    context="eql_async", context_param="id"),
    "eql.get_status": r("cluster:monitor/eql/async/status", context="eql_async",
                        context_param="id"),
    "sql.query": r("indices:data/read/sql", kind="index_name_only", body="query_language",
                   target_action=SEARCH, context="sql_cursor"),
    "sql.translate": r("indices:data/read/sql/translate", kind="index_name_only",
                       body="query_language", target_action=SEARCH),
    "sql.clear_cursor": r("indices:data/read/sql/close_cursor", kind="always",
                          context="sql_cursor"),
    "sql.get_async": r("indices:data/read/sql/async/get", kind="index_name_only",
                       context="sql_async", context_param="id"),
    "sql.delete_async": r("indices:data/read/async_search/delete", kind="index_name_only",
                          context="sql_async", context_param="id"),
    "sql.get_async_status": r("cluster:monitor/xpack/sql/async/status", context="sql_async",
                              context_param="id"),
    "esql.query": r("indices:data/read/esql", kind="index_name_only", body="query_language",
                    target_action=SEARCH),
    "esql.async_query": r("indices:data/read/esql", kind="index_name_only",
                          body="query_language", target_action=SEARCH),
    "esql.async_query_get": r("indices:data/read/esql/async/get", kind="index_name_only",
                              context="esql_async", context_param="id"),
    "esql.async_query_stop": r("indices:data/read/esql/async/stop", kind="index_name_only",
                               context="esql_async", context_param="id"),
    "esql.async_query_delete": r("indices:data/read/async_search/delete",
                                 kind="index_name_only", context="esql_async",
                                 context_param="id"),
    "esql.list_queries": d("cluster:monitor/xpack/esql/queries/list"),
    "esql.get_query": d("cluster:monitor/xpack/esql/queries/get"),
    "esql.get_view": d("indices:admin/esql/view/get", index_param="name"),
    "esql.put_view": d("indices:admin/esql/view/put", index_param="name", multi=False),
    "esql.delete_view": d("indices:admin/esql/view/delete", index_param="name"),
    "esql.get_dataset": d("indices:admin/esql/dataset/get", index_param="name"),
    "esql.put_dataset": d("indices:admin/esql/dataset/put", index_param="name", multi=False),
    "esql.delete_dataset": d("indices:admin/esql/dataset/delete", index_param="name"),
    "esql.get_data_source": d("cluster:admin/esql/data_source/get"),
    "esql.put_data_source": d("cluster:admin/esql/data_source/put"),
    "esql.delete_data_source": d("cluster:admin/esql/data_source/delete"),
    "fleet.search": r(SEARCH, multi=False),
    "fleet.msearch": r("indices:data/read/msearch", kind="index_name_only", body="msearch",
                       target_action=SEARCH, multi=False),
    "fleet.global_checkpoints": r("indices:monitor/fleet/global_checkpoints", multi=False),
    "fleet.get_secret": r("cluster:admin/fleet/secrets/get"),
    "fleet.post_secret": r("cluster:admin/fleet/secrets/post"),
    "fleet.delete_secret": r("cluster:admin/fleet/secrets/delete"),
    "rollup.rollup_search": r("indices:data/read/xpack/rollup/search"),
    "rollup.get_rollup_index_caps": r("indices:data/read/xpack/rollup/get/index/caps"),
    "rollup.delete_job": r("cluster:admin/xpack/rollup/delete"),
    "rollup.get_jobs": r("cluster:monitor/xpack/rollup/get"),
    "rollup.get_rollup_caps": r("cluster:monitor/xpack/rollup/get/caps"),
    "rollup.put_job": r("cluster:admin/xpack/rollup/put", body="opaque"),
    "rollup.start_job": r("cluster:admin/xpack/rollup/start"),
    "rollup.stop_job": r("cluster:admin/xpack/rollup/stop"),
    "search_application.search": r("indices:data/read/xpack/application/search_application/search",
                                   index_param="name", multi=False),
    "search_application.render_query": r(
        "cluster:admin/xpack/application/search_application/render_query"),
    "search_application.get": r("cluster:admin/xpack/application/search_application/get"),
    "search_application.list": r("cluster:admin/xpack/application/search_application/list"),
    "search_application.put": r("cluster:admin/xpack/application/search_application/put",
                                body="opaque"),
    "search_application.delete": r("cluster:admin/xpack/application/search_application/delete"),
    "search_application.get_behavioral_analytics": r(
        "cluster:admin/xpack/application/analytics/get"),
    "search_application.put_behavioral_analytics": r(
        "cluster:admin/xpack/application/analytics/put"),
    "search_application.delete_behavioral_analytics": r(
        "cluster:admin/xpack/application/analytics/delete"),
    "search_application.post_behavioral_analytics_event": r(
        "cluster:admin/xpack/application/analytics/post_event"),
    "profiling.stacktraces": r("indices:data/read/profiling/stack_traces", kind="index_name_only",
                               body="opaque"),
    "profiling.flamegraph": r("indices:data/read/profiling/flamegraph", kind="index_name_only",
                              body="opaque"),
    "profiling.status": r("cluster:monitor/profiling/status/get"),
    # --- indices ------------------------------------------------------------------------------
    "indices.create": r("indices:admin/create", multi=False, body="index_aliases"),
    "indices.delete": r("indices:admin/delete"),
    "indices.get": r("indices:admin/get"),
    "indices.exists": r("indices:admin/get"),
    "indices.open": r("indices:admin/open"),
    "indices.close": r("indices:admin/close"),
    "indices.add_block": r("indices:admin/block/add"),
    "indices.remove_block": d("indices:admin/block/remove"),
    "indices.analyze": r("indices:admin/analyze", multi=False),
    "indices.clear_cache": r("indices:admin/cache/clear"),
    "indices.clone": r("indices:admin/resize", multi=False, second="target"),
    "indices.shrink": r("indices:admin/resize", multi=False, second="target"),
    "indices.split": r("indices:admin/resize", multi=False, second="target"),
    "indices.disk_usage": r("indices:admin/analyze_disk_usage"),
    "indices.downsample": r("indices:admin/xpack/downsample", multi=False,
                            second="target_index"),
    "indices.field_usage_stats": r("indices:monitor/field_usage_stats"),
    "indices.flush": r("indices:admin/flush"),
    "indices.forcemerge": r("indices:admin/forcemerge"),
    "indices.refresh": r("indices:admin/refresh"),
    "indices.reload_search_analyzers": r("indices:admin/reload_analyzers"),
    "indices.get_mapping": r("indices:admin/mappings/get"),
    "indices.get_field_mapping": r("indices:admin/mappings/fields/get"),
    "indices.put_mapping": r("indices:admin/mapping/put"),
    "indices.get_settings": r("indices:monitor/settings/get"),
    "indices.put_settings": r("indices:admin/settings/update"),
    "indices.stats": r("indices:monitor/stats"),
    "indices.segments": r("indices:monitor/segments"),
    "indices.recovery": r("indices:monitor/recovery"),
    "indices.shard_stores": r("indices:monitor/shard_stores"),
    "indices.validate_query": r("indices:admin/validate/query"),
    "indices.rollover": r("indices:admin/rollover", index_param="alias", multi=False,
                          second="new_index", body="index_aliases"),
    "indices.get_alias": r("indices:admin/aliases/get", second="name"),
    "indices.exists_alias": r("indices:admin/aliases/get", second="name"),
    "indices.put_alias": r("indices:admin/aliases", second="name"),
    "indices.delete_alias": r("indices:admin/aliases", second="name"),
    "indices.update_aliases": r("indices:admin/aliases", kind="index_name_only",
                                body="alias_actions"),
    "indices.resolve_index": r("indices:admin/resolve/index", index_param="name"),
    "indices.resolve_cluster": r("indices:admin/resolve/cluster", index_param="name"),
    # data streams
    "indices.create_data_stream": r("indices:admin/data_stream/create", index_param="name",
                                    multi=False),
    "indices.delete_data_stream": r("indices:admin/data_stream/delete", index_param="name"),
    "indices.get_data_stream": r("indices:admin/data_stream/get", index_param="name"),
    "indices.data_streams_stats": r("indices:monitor/data_stream/stats", index_param="name"),
    "indices.migrate_to_data_stream": r("indices:admin/data_stream/migrate", index_param="name",
                                        multi=False),
    "indices.promote_data_stream": r("indices:admin/data_stream/promote", index_param="name",
                                     multi=False),
    "indices.modify_data_stream": r("indices:admin/data_stream/modify", kind="index_name_only",
                                    body="opaque"),
    "indices.get_data_lifecycle": r("indices:admin/data_stream/lifecycle/get",
                                    index_param="name"),
    "indices.put_data_lifecycle": r("indices:admin/data_stream/lifecycle/put",
                                    index_param="name"),
    "indices.delete_data_lifecycle": r("indices:admin/data_stream/lifecycle/delete",
                                       index_param="name"),
    "indices.explain_data_lifecycle": r("indices:admin/data_stream/lifecycle/explain"),
    "indices.get_data_lifecycle_stats": r("cluster:monitor/data_stream/lifecycle/stats"),
    "indices.get_data_stream_options": r("indices:admin/data_stream/options/get",
                                         index_param="name"),
    "indices.put_data_stream_options": r("indices:admin/data_stream/options/put",
                                         index_param="name"),
    "indices.delete_data_stream_options": d("indices:admin/data_stream/options/delete",
                                            index_param="name"),
    # view_index_metadata / manage are the annotations: pick names those privileges grant.
    "indices.get_data_stream_mappings": d("indices:admin/mappings/get", index_param="name"),
    "indices.get_data_stream_settings": d("indices:monitor/settings/get", index_param="name"),
    "indices.put_data_stream_mappings": d("indices:admin/data_stream/mappings/update",
                                          index_param="name"),
    "indices.put_data_stream_settings": d("indices:admin/data_stream/settings/update",
                                          index_param="name"),
    # templates: cluster actions even though they start with indices: (CLPRIV isClusterAction)
    "indices.get_index_template": r("indices:admin/index_template/get"),
    "indices.exists_index_template": r("indices:admin/index_template/get"),
    "indices.put_index_template": r("indices:admin/index_template/put"),
    "indices.delete_index_template": r("indices:admin/index_template/delete"),
    "indices.simulate_index_template": r("indices:admin/index_template/simulate_index"),
    "indices.simulate_template": r("indices:admin/index_template/simulate"),
    "indices.get_template": r("indices:admin/template/get"),
    "indices.exists_template": r("indices:admin/template/get"),
    "indices.put_template": r("indices:admin/template/put"),
    "indices.delete_template": r("indices:admin/template/delete"),
    "cluster.get_component_template": r("cluster:admin/component_template/get"),
    "cluster.exists_component_template": r("cluster:admin/component_template/get"),
    "cluster.put_component_template": r("cluster:admin/component_template/put"),
    "cluster.delete_component_template": r("cluster:admin/component_template/delete"),
    # --- ingest -------------------------------------------------------------------------------
    "ingest.get_pipeline": r("cluster:admin/ingest/pipeline/get"),
    "ingest.put_pipeline": r("cluster:admin/ingest/pipeline/put"),
    "ingest.delete_pipeline": r("cluster:admin/ingest/pipeline/delete"),
    "ingest.simulate": r("cluster:admin/ingest/pipeline/simulate"),
    "ingest.processor_grok": r("cluster:admin/ingest/processor/grok/get"),
    "ingest.geo_ip_stats": r("cluster:monitor/ingest/geoip/stats"),
    "ingest.get_geoip_database": r("cluster:admin/ingest/geoip/database/get"),
    "ingest.put_geoip_database": r("cluster:admin/ingest/geoip/database/put"),
    "ingest.delete_geoip_database": r("cluster:admin/ingest/geoip/database/delete"),
    "ingest.get_ip_location_database": r("cluster:admin/ingest/ip_location/database/get"),
    "ingest.put_ip_location_database": r("cluster:admin/ingest/ip_location/database/put"),
    "ingest.delete_ip_location_database": r("cluster:admin/ingest/ip_location/database/delete"),
    "simulate.ingest": r("indices:data/write/simulate/bulk", kind="index_name_only",
                         multi=False, body="docs"),
    # --- cluster ------------------------------------------------------------------------------
    "cluster.health": r("cluster:monitor/health"),
    "cluster.state": r("cluster:monitor/state"),
    "cluster.stats": r("cluster:monitor/stats"),
    "cluster.get_settings": r("cluster:monitor/settings"),
    "cluster.put_settings": r("cluster:admin/settings/update"),
    "cluster.pending_tasks": r("cluster:monitor/task"),
    "cluster.remote_info": r("cluster:monitor/remote/info"),
    "cluster.reroute": r("cluster:admin/reroute"),
    "cluster.allocation_explain": r("cluster:monitor/allocation/explain"),
    "cluster.post_voting_config_exclusions": r("cluster:admin/voting_config/add_exclusions"),
    "cluster.delete_voting_config_exclusions": r("cluster:admin/voting_config/clear_exclusions"),
    "cluster.info": r("cluster:monitor/nodes/stats"),
    "nodes.info": r("cluster:monitor/nodes/info"),
    "nodes.stats": r("cluster:monitor/nodes/stats"),
    "nodes.usage": r("cluster:monitor/nodes/usage"),
    "nodes.hot_threads": r("cluster:monitor/nodes/hot_threads"),
    "nodes.reload_secure_settings": r("cluster:admin/nodes/reload_secure_settings"),
    "nodes.get_repositories_metering_info": r(
        "cluster:monitor/xpack/repositories_metering/get_metrics"),
    "nodes.clear_repositories_metering_archive": r(
        "cluster:monitor/xpack/repositories_metering/clear_metering_archive"),
    "tasks.list": r("cluster:monitor/tasks/lists"),
    "tasks.get": r("cluster:monitor/task/get", context="task", context_param="task_id"),
    "tasks.cancel": r("cluster:admin/tasks/cancel", context="task", context_param="task_id"),
    "license.get": r("cluster:monitor/xpack/license/get"),
    "license.post": r("cluster:admin/xpack/license/put"),
    "license.delete": r("cluster:admin/xpack/license/delete"),
    "license.get_basic_status": r("cluster:admin/xpack/license/basic_status"),
    "license.get_trial_status": r("cluster:admin/xpack/license/trial_status"),
    "license.post_start_basic": r("cluster:admin/xpack/license/start_basic"),
    "license.post_start_trial": r("cluster:admin/xpack/license/start_trial"),
    "features.get_features": r("cluster:admin/features/get"),
    "features.reset_features": r("cluster:admin/features/reset"),
    "migration.deprecations": r("cluster:admin/xpack/deprecation/info"),
    "migration.get_feature_upgrade_status": r("cluster:admin/migration/get_system_feature"),
    "migration.post_feature_upgrade": r("cluster:admin/migration/post_system_feature"),
    "dangling_indices.list_dangling_indices": r("cluster:admin/indices/dangling/list"),
    "dangling_indices.import_dangling_index": r("cluster:admin/indices/dangling/import"),
    "dangling_indices.delete_dangling_index": r("cluster:admin/indices/dangling/delete"),
    "shutdown.get_node": r("cluster:admin/shutdown/get"),
    "shutdown.put_node": r("cluster:admin/shutdown/create"),
    "shutdown.delete_node": r("cluster:admin/shutdown/delete"),
    "autoscaling.get_autoscaling_capacity": r("cluster:admin/autoscaling/get_autoscaling_capacity"),
    "autoscaling.get_autoscaling_policy": r("cluster:admin/autoscaling/get_autoscaling_policy"),
    "autoscaling.put_autoscaling_policy": r("cluster:admin/autoscaling/put_autoscaling_policy"),
    "autoscaling.delete_autoscaling_policy": r(
        "cluster:admin/autoscaling/delete_autoscaling_policy"),
    "ssl.certificates": r("cluster:monitor/xpack/ssl/certificates/get"),
    "monitoring.bulk": r("cluster:admin/xpack/monitoring/bulk"),
    "get_script": r("cluster:admin/script/get"),
    "put_script": r("cluster:admin/script/put"),
    "delete_script": r("cluster:admin/script/delete"),
    "get_script_context": r("cluster:admin/script_context/get"),
    "get_script_languages": r("cluster:admin/script_language/get"),
    "scripts_painless_execute": r("cluster:admin/scripts/painless/execute", body="opaque"),
    "text_structure.find_structure": r("cluster:monitor/text_structure/findstructure"),
    "text_structure.find_field_structure": d("cluster:monitor/text_structure/find_field_structure",
                                             body="opaque"),
    "text_structure.find_message_structure": d(
        "cluster:monitor/text_structure/find_message_structure"),
    "text_structure.test_grok_pattern": r("cluster:monitor/text_structure/test_grok_pattern"),
    "streams.logs_enable": d("cluster:admin/streams/logs/toggle"),
    "streams.logs_disable": d("cluster:admin/streams/logs/toggle"),
    "streams.status": d("cluster:monitor/streams/status"),
    "project.create_routing": d("cluster:admin/project_routing/put"),
    "project.create_many_routing": d("cluster:admin/project_routing/put"),
    "project.delete_routing": d("cluster:admin/project_routing/delete"),
    "project.get_routing": d("cluster:monitor/project_routing/get"),
    "project.get_many_routing": d("cluster:monitor/project_routing/get"),
    "project.tags": d("cluster:monitor/project/tags"),
    # --- cat ----------------------------------------------------------------------------------
    "cat.help": dict(action="", origin="none", kind="always"),
    "cat.aliases": r("indices:admin/aliases/get", index_param="", second="name",
                     cluster_action="cluster:monitor/state"),
    "cat.allocation": r("cluster:monitor/state"),
    "cat.circuit_breaker": r("cluster:monitor/nodes/stats"),
    "cat.component_templates": r("cluster:admin/component_template/get"),
    "cat.count": r(SEARCH),
    "cat.fielddata": r("cluster:monitor/nodes/stats"),
    "cat.health": r("cluster:monitor/health"),
    "cat.indices": r("indices:monitor/stats", target_action="indices:monitor/settings/get",
                     cluster_action="cluster:monitor/state"),
    "cat.master": r("cluster:monitor/state"),
    "cat.nodeattrs": r("cluster:monitor/nodes/info"),
    "cat.nodes": r("cluster:monitor/nodes/stats"),
    "cat.pending_tasks": r("cluster:monitor/task"),
    "cat.plugins": r("cluster:monitor/nodes/info"),
    "cat.recovery": r("indices:monitor/recovery", cluster_action="cluster:monitor/state"),
    "cat.repositories": r("cluster:admin/repository/get"),
    "cat.segments": r("indices:monitor/segments", cluster_action="cluster:monitor/state"),
    "cat.shards": r("indices:monitor/stats", cluster_action="cluster:monitor/state"),
    "cat.snapshots": r("cluster:admin/snapshot/get"),
    "cat.tasks": r("cluster:monitor/tasks/lists"),
    "cat.templates": r("indices:admin/index_template/get"),
    "cat.thread_pool": r("cluster:monitor/nodes/stats"),
    "cat.transforms": r("cluster:monitor/transform/stats/get"),
    "cat.ml_data_frame_analytics": r("cluster:monitor/xpack/ml/data_frame/analytics/stats/get"),
    "cat.ml_datafeeds": r("cluster:monitor/xpack/ml/datafeeds/stats/get"),
    "cat.ml_jobs": r("cluster:monitor/xpack/ml/job/stats/get"),
    "cat.ml_trained_models": r("cluster:monitor/xpack/ml/inference/stats/get"),
    # --- snapshots, ilm, slm --------------------------------------------------------------------
    "snapshot.get_repository": r("cluster:admin/repository/get"),
    "snapshot.create_repository": r("cluster:admin/repository/put"),
    "snapshot.delete_repository": r("cluster:admin/repository/delete"),
    "snapshot.verify_repository": r("cluster:admin/repository/verify"),
    "snapshot.cleanup_repository": r("cluster:admin/repository/_cleanup"),
    "snapshot.repository_analyze": r("cluster:admin/repository/analyze"),
    "snapshot.repository_verify_integrity": r("cluster:admin/repository/verify_integrity"),
    "snapshot.get": r("cluster:admin/snapshot/get"),
    "snapshot.create": r("cluster:admin/snapshot/create"),
    "snapshot.delete": r("cluster:admin/snapshot/delete"),
    "snapshot.clone": r("cluster:admin/snapshot/clone"),
    "snapshot.restore": r("cluster:admin/snapshot/restore"),
    "snapshot.status": r("cluster:admin/snapshot/status"),
    "searchable_snapshots.mount": r("cluster:admin/snapshot/mount"),
    "searchable_snapshots.cache_stats": r("cluster:admin/xpack/searchable_snapshots/cache/stats"),
    "searchable_snapshots.clear_cache": r("cluster:admin/xpack/searchable_snapshots/cache/clear"),
    "searchable_snapshots.stats": r("cluster:monitor/xpack/searchable_snapshots/stats"),
    "ilm.get_lifecycle": r("cluster:admin/ilm/get"),
    "ilm.put_lifecycle": r("cluster:admin/ilm/put"),
    "ilm.delete_lifecycle": r("cluster:admin/ilm/delete"),
    "ilm.get_status": r("cluster:admin/ilm/operation_mode/get"),
    "ilm.start": r("cluster:admin/ilm/start"),
    "ilm.stop": r("cluster:admin/ilm/stop"),
    "ilm.move_to_step": r("cluster:admin/ilm/_move/post"),
    "ilm.migrate_to_data_tiers": r("cluster:admin/migrate_to_data_tiers"),
    "ilm.explain_lifecycle": r("indices:admin/ilm/explain"),
    "ilm.remove_policy": r("indices:admin/ilm/remove_policy"),
    "ilm.retry": r("indices:admin/ilm/retry"),
    "slm.get_lifecycle": r("cluster:admin/slm/get"),
    "slm.put_lifecycle": r("cluster:admin/slm/put"),
    "slm.delete_lifecycle": r("cluster:admin/slm/delete"),
    "slm.execute_lifecycle": r("cluster:admin/slm/execute"),
    "slm.execute_retention": r("cluster:admin/slm/execute-retention"),
    "slm.get_stats": r("cluster:admin/slm/stats"),
    "slm.get_status": r("cluster:admin/slm/status"),
    "slm.start": r("cluster:admin/slm/start"),
    "slm.stop": r("cluster:admin/slm/stop"),
    # --- ccr ----------------------------------------------------------------------------------
    "ccr.follow": r("indices:admin/xpack/ccr/put_follow", multi=False),
    "ccr.unfollow": r("indices:admin/xpack/ccr/unfollow", multi=False),
    "ccr.forget_follower": r("indices:admin/xpack/ccr/forget_follower", multi=False),
    "ccr.pause_follow": r("cluster:admin/xpack/ccr/pause_follow"),
    "ccr.resume_follow": r("cluster:admin/xpack/ccr/resume_follow"),
    "ccr.follow_info": r("cluster:monitor/ccr/follow_info"),
    "ccr.follow_stats": r("cluster:monitor/ccr/follow_stats"),
    "ccr.stats": r("cluster:monitor/ccr/stats"),
    "ccr.get_auto_follow_pattern": r("cluster:admin/xpack/ccr/auto_follow_pattern/get"),
    "ccr.put_auto_follow_pattern": r("cluster:admin/xpack/ccr/auto_follow_pattern/put"),
    "ccr.delete_auto_follow_pattern": r("cluster:admin/xpack/ccr/auto_follow_pattern/delete"),
    "ccr.pause_auto_follow_pattern": r("cluster:admin/xpack/ccr/auto_follow_pattern/activate"),
    "ccr.resume_auto_follow_pattern": r("cluster:admin/xpack/ccr/auto_follow_pattern/activate"),
    # --- enrich, logstash, watcher, transform ---------------------------------------------------
    "enrich.get_policy": r("cluster:admin/xpack/enrich/get"),
    "enrich.put_policy": r("cluster:admin/xpack/enrich/put", body="opaque"),
    "enrich.delete_policy": r("cluster:admin/xpack/enrich/delete"),
    "enrich.execute_policy": r("cluster:admin/xpack/enrich/execute"),
    "enrich.stats": r("cluster:monitor/xpack/enrich/stats"),
    "logstash.get_pipeline": r("cluster:admin/logstash/pipeline/get"),
    "logstash.put_pipeline": r("cluster:admin/logstash/pipeline/put"),
    "logstash.delete_pipeline": r("cluster:admin/logstash/pipeline/delete"),
    "watcher.ack_watch": r("cluster:admin/xpack/watcher/watch/ack"),
    "watcher.activate_watch": r("cluster:admin/xpack/watcher/watch/activate"),
    "watcher.deactivate_watch": r("cluster:admin/xpack/watcher/watch/activate"),
    "watcher.delete_watch": r("cluster:admin/xpack/watcher/watch/delete"),
    "watcher.execute_watch": r("cluster:admin/xpack/watcher/watch/execute"),
    "watcher.get_watch": r("cluster:monitor/xpack/watcher/watch/get"),
    "watcher.put_watch": r("cluster:admin/xpack/watcher/watch/put"),
    "watcher.query_watches": r("cluster:monitor/xpack/watcher/watch/query"),
    "watcher.start": r("cluster:admin/xpack/watcher/service"),
    "watcher.stop": r("cluster:admin/xpack/watcher/service"),
    "watcher.stats": r("cluster:monitor/xpack/watcher/stats/dist"),
    "watcher.get_settings": r("cluster:admin/xpack/watcher/settings/get"),
    "watcher.update_settings": r("cluster:admin/xpack/watcher/settings/update"),
    "transform.get_transform": r("cluster:monitor/transform/get"),
    "transform.get_transform_stats": r("cluster:monitor/transform/stats/get"),
    "transform.preview_transform": r("cluster:admin/transform/preview", body="opaque"),
    "transform.put_transform": r("cluster:admin/transform/put", body="opaque"),
    "transform.update_transform": r("cluster:admin/transform/update", body="opaque"),
    "transform.delete_transform": r("cluster:admin/transform/delete"),
    "transform.reset_transform": r("cluster:admin/transform/reset"),
    "transform.start_transform": r("cluster:admin/transform/start"),
    "transform.stop_transform": r("cluster:admin/transform/stop"),
    "transform.schedule_now_transform": r("cluster:admin/transform/schedule_now"),
    "transform.upgrade_transforms": r("cluster:admin/transform/upgrade"),
    "transform.set_upgrade_mode": d("cluster:admin/transform/set_upgrade_mode"),
    # --- synonyms, query rules, inference --------------------------------------------------------
    "synonyms.get_synonyms_sets": r("cluster:admin/synonyms_sets/get"),
    "synonyms.get_synonym": r("cluster:admin/synonyms/get"),
    "synonyms.put_synonym": r("cluster:admin/synonyms/put"),
    "synonyms.delete_synonym": r("cluster:admin/synonyms/delete"),
    "synonyms.get_synonym_rule": r("cluster:admin/synonym_rules/get"),
    "synonyms.put_synonym_rule": r("cluster:admin/synonym_rules/put"),
    "synonyms.delete_synonym_rule": r("cluster:admin/synonym_rules/delete"),
    "query_rules.list_rulesets": r("cluster:admin/xpack/query_rules/list"),
    "query_rules.get_ruleset": r("cluster:admin/xpack/query_rules/get"),
    "query_rules.put_ruleset": r("cluster:admin/xpack/query_rules/put"),
    "query_rules.delete_ruleset": r("cluster:admin/xpack/query_rules/delete"),
    "query_rules.get_rule": r("cluster:admin/xpack/query_rules/rule/get"),
    "query_rules.put_rule": r("cluster:admin/xpack/query_rules/rule/put"),
    "query_rules.delete_rule": r("cluster:admin/xpack/query_rules/rule/delete"),
    "query_rules.test": d("cluster:admin/xpack/query_rules/test"),
    "inference.get": r("cluster:admin/xpack/inference/get"),
    "inference.put": r("cluster:admin/xpack/inference/put"),
    "inference.update": r("cluster:admin/xpack/inference/update"),
    "inference.delete": r("cluster:admin/xpack/inference/delete"),
    "inference.inference": r("cluster:monitor/xpack/inference"),
    "inference.completion": r("cluster:monitor/xpack/inference"),
    "inference.embedding": r("cluster:monitor/xpack/inference"),
    "inference.rerank": r("cluster:monitor/xpack/inference"),
    "inference.sparse_embedding": r("cluster:monitor/xpack/inference"),
    "inference.text_embedding": r("cluster:monitor/xpack/inference"),
    "inference.stream_completion": d("cluster:monitor/xpack/inference/post"),
    "inference.chat_completion_unified": d("cluster:monitor/xpack/inference/post"),
    "inference.get_region_policy": d("cluster:monitor/xpack/inference/region_policy/get"),
    "inference.put_region_policy": d("cluster:admin/xpack/inference/region_policy/put"),
    "inference.delete_region_policy": d("cluster:admin/xpack/inference/region_policy/delete"),
    # --- security -----------------------------------------------------------------------------
    # Served by the gateway (interface.md §5): API keys live in the gateway's key store.
    "security.create_api_key": r("cluster:admin/xpack/security/api_key/create", kind="served"),
    "security.get_api_key": r("cluster:admin/xpack/security/api_key/get", kind="served"),
    "security.query_api_keys": r("cluster:admin/xpack/security/api_key/query", kind="served"),
    "security.invalidate_api_key": r("cluster:admin/xpack/security/api_key/invalidate",
                                     kind="served"),
    "security.update_api_key": r("cluster:admin/xpack/security/api_key/update", kind="served"),
    "security.bulk_update_api_keys": r("cluster:admin/xpack/security/api_key/bulk_update",
                                       kind="served"),
    "security.grant_api_key": r("cluster:admin/xpack/security/api_key/grant", kind="served"),
    "security.clone_api_key": d("cluster:admin/xpack/security/api_key/clone", kind="served"),
    "security.clear_api_key_cache": d("cluster:admin/xpack/security/api_key/clear_cache",
                                      kind="served"),
    "security.authenticate": r("cluster:admin/xpack/security/user/authenticate", kind="served"),
    "security.has_privileges": r("cluster:admin/xpack/security/user/has_privileges",
                                 kind="served"),
    # Forwarded: these act on ES's own security objects and need ES-level privileges.
    "security.get_user_privileges": r("cluster:admin/xpack/security/user/list_privileges"),
    "security.create_cross_cluster_api_key": r(
        "cluster:admin/xpack/security/cross_cluster/api_key/create"),
    "security.update_cross_cluster_api_key": r(
        "cluster:admin/xpack/security/cross_cluster/api_key/update"),
    "security.activate_user_profile": r("cluster:admin/xpack/security/profile/activate"),
    "security.get_user_profile": r("cluster:admin/xpack/security/profile/get"),
    "security.has_privileges_user_profile": r("cluster:admin/xpack/security/profile/has_privileges"),
    "security.update_user_profile_data": r("cluster:admin/xpack/security/profile/put/data"),
    "security.suggest_user_profiles": r("cluster:admin/xpack/security/profile/suggest"),
    "security.enable_user_profile": r("cluster:admin/xpack/security/profile/set_enabled"),
    "security.disable_user_profile": r("cluster:admin/xpack/security/profile/set_enabled"),
    "security.get_role": r("cluster:admin/xpack/security/role/get"),
    "security.put_role": r("cluster:admin/xpack/security/role/put"),
    "security.delete_role": r("cluster:admin/xpack/security/role/delete"),
    "security.query_role": r("cluster:admin/xpack/security/role/query"),
    "security.bulk_put_role": r("cluster:admin/xpack/security/role/bulk_put"),
    "security.bulk_delete_role": r("cluster:admin/xpack/security/role/bulk_delete"),
    "security.clear_cached_roles": r("cluster:admin/xpack/security/roles/cache/clear"),
    "security.get_role_mapping": r("cluster:admin/xpack/security/role_mapping/get"),
    "security.put_role_mapping": r("cluster:admin/xpack/security/role_mapping/put"),
    "security.delete_role_mapping": r("cluster:admin/xpack/security/role_mapping/delete"),
    "security.get_user": r("cluster:admin/xpack/security/user/get"),
    "security.put_user": r("cluster:admin/xpack/security/user/put"),
    "security.delete_user": r("cluster:admin/xpack/security/user/delete"),
    "security.query_user": r("cluster:admin/xpack/security/user/query"),
    "security.enable_user": r("cluster:admin/xpack/security/user/set_enabled"),
    "security.disable_user": r("cluster:admin/xpack/security/user/set_enabled"),
    "security.change_password": r("cluster:admin/xpack/security/user/change_password"),
    "security.get_privileges": r("cluster:admin/xpack/security/privilege/get"),
    "security.put_privileges": r("cluster:admin/xpack/security/privilege/put"),
    "security.delete_privileges": r("cluster:admin/xpack/security/privilege/delete"),
    "security.get_builtin_privileges": r("cluster:admin/xpack/security/privilege/builtin/get"),
    "security.clear_cached_privileges": r("cluster:admin/xpack/security/privilege/cache/clear"),
    "security.clear_cached_realms": r("cluster:admin/xpack/security/realm/cache/clear"),
    "security.get_service_accounts": r("cluster:admin/xpack/security/service_account/get"),
    "security.get_service_credentials": r(
        "cluster:admin/xpack/security/service_account/credential/get"),
    "security.create_service_token": r("cluster:admin/xpack/security/service_account/token/create"),
    "security.delete_service_token": r("cluster:admin/xpack/security/service_account/token/delete"),
    "security.clear_cached_service_tokens": r(
        "cluster:admin/xpack/security/service_account/token/cache/clear"),
    "security.get_settings": r("cluster:admin/xpack/security/settings/get"),
    "security.update_settings": r("cluster:admin/xpack/security/settings/update"),
    "security.get_token": r("cluster:admin/xpack/security/token/create"),
    "security.invalidate_token": r("cluster:admin/xpack/security/token/invalidate"),
    "security.delegate_pki": r("cluster:admin/xpack/security/delegate_pki"),
    "security.enroll_kibana": r("cluster:admin/xpack/security/enroll/kibana"),
    "security.enroll_node": r("cluster:admin/xpack/security/enroll/node"),
    "security.get_stats": d("cluster:monitor/xpack/security/stats"),
    "security.oidc_authenticate": r("cluster:admin/xpack/security/oidc/authenticate"),
    "security.oidc_logout": r("cluster:admin/xpack/security/oidc/logout"),
    "security.oidc_prepare_authentication": r("cluster:admin/xpack/security/oidc/prepare"),
    "security.saml_authenticate": r("cluster:admin/xpack/security/saml/authenticate"),
    "security.saml_complete_logout": r("cluster:admin/xpack/security/saml/complete_logout"),
    "security.saml_invalidate": r("cluster:admin/xpack/security/saml/invalidate"),
    "security.saml_logout": r("cluster:admin/xpack/security/saml/logout"),
    "security.saml_prepare_authentication": r("cluster:admin/xpack/security/saml/prepare"),
    "security.saml_service_provider_metadata": r("cluster:monitor/xpack/security/saml/metadata"),
    # --- machine learning -------------------------------------------------------------------------
    "ml.info": r("cluster:monitor/xpack/ml/info/get"),
    "ml.set_upgrade_mode": r("cluster:admin/xpack/ml/upgrade_mode"),
    "ml.get_memory_stats": r("cluster:monitor/xpack/ml/memory/stats/get"),
    "ml.get_jobs": r("cluster:monitor/xpack/ml/job/get"),
    "ml.get_job_stats": r("cluster:monitor/xpack/ml/job/stats/get"),
    "ml.put_job": r("cluster:admin/xpack/ml/job/put", body="opaque"),
    "ml.update_job": r("cluster:admin/xpack/ml/job/update"),
    "ml.delete_job": r("cluster:admin/xpack/ml/job/delete"),
    "ml.open_job": r("cluster:admin/xpack/ml/job/open"),
    "ml.close_job": r("cluster:admin/xpack/ml/job/close"),
    "ml.reset_job": r("cluster:admin/xpack/ml/job/reset"),
    "ml.flush_job": r("cluster:admin/xpack/ml/job/flush"),
    "ml.post_data": r("cluster:admin/xpack/ml/job/data/post"),
    "ml.forecast": r("cluster:admin/xpack/ml/job/forecast"),
    "ml.delete_forecast": r("cluster:admin/xpack/ml/job/forecast/delete"),
    "ml.estimate_model_memory": r("cluster:admin/xpack/ml/job/estimate_model_memory"),
    "ml.validate": r("cluster:admin/xpack/ml/job/validate"),
    "ml.validate_detector": r("cluster:admin/xpack/ml/job/validate/detector"),
    "ml.delete_expired_data": r("cluster:admin/xpack/ml/delete_expired_data"),
    "ml.get_buckets": r("cluster:monitor/xpack/ml/job/results/buckets/get"),
    "ml.get_categories": r("cluster:monitor/xpack/ml/job/results/categories/get"),
    "ml.get_influencers": r("cluster:monitor/xpack/ml/job/results/influencers/get"),
    "ml.get_overall_buckets": r("cluster:monitor/xpack/ml/job/results/overall_buckets/get"),
    "ml.get_records": r("cluster:monitor/xpack/ml/job/results/records/get"),
    "ml.get_model_snapshots": r("cluster:monitor/xpack/ml/job/model_snapshots/get"),
    "ml.get_model_snapshot_upgrade_stats": r(
        "cluster:monitor/xpack/ml/job/model_snapshots/upgrade/stats/get"),
    "ml.delete_model_snapshot": r("cluster:admin/xpack/ml/job/model_snapshots/delete"),
    "ml.revert_model_snapshot": r("cluster:admin/xpack/ml/job/model_snapshots/revert"),
    "ml.update_model_snapshot": r("cluster:admin/xpack/ml/job/model_snapshots/update"),
    "ml.upgrade_job_snapshot": r("cluster:admin/xpack/ml/job/model_snapshots/upgrade"),
    "ml.get_calendars": r("cluster:monitor/xpack/ml/calendars/get"),
    "ml.get_calendar_events": r("cluster:monitor/xpack/ml/calendars/events/get"),
    "ml.put_calendar": r("cluster:admin/xpack/ml/calendars/put"),
    "ml.delete_calendar": r("cluster:admin/xpack/ml/calendars/delete"),
    "ml.put_calendar_job": r("cluster:admin/xpack/ml/calendars/jobs/update"),
    "ml.delete_calendar_job": r("cluster:admin/xpack/ml/calendars/jobs/update"),
    "ml.post_calendar_events": r("cluster:admin/xpack/ml/calendars/events/post"),
    "ml.delete_calendar_event": r("cluster:admin/xpack/ml/calendars/events/delete"),
    "ml.get_filters": r("cluster:admin/xpack/ml/filters/get"),
    "ml.put_filter": r("cluster:admin/xpack/ml/filters/put"),
    "ml.update_filter": r("cluster:admin/xpack/ml/filters/update"),
    "ml.delete_filter": r("cluster:admin/xpack/ml/filters/delete"),
    "ml.get_datafeeds": r("cluster:monitor/xpack/ml/datafeeds/get"),
    "ml.get_datafeed_stats": r("cluster:monitor/xpack/ml/datafeeds/stats/get"),
    "ml.put_datafeed": r("cluster:admin/xpack/ml/datafeeds/put", body="opaque"),
    "ml.update_datafeed": r("cluster:admin/xpack/ml/datafeeds/update", body="opaque"),
    "ml.delete_datafeed": r("cluster:admin/xpack/ml/datafeeds/delete"),
    "ml.preview_datafeed": r("cluster:admin/xpack/ml/datafeeds/preview", body="opaque"),
    "ml.start_datafeed": r("cluster:admin/xpack/ml/datafeed/start"),
    "ml.stop_datafeed": r("cluster:admin/xpack/ml/datafeed/stop"),
    "ml.get_data_frame_analytics": r("cluster:monitor/xpack/ml/data_frame/analytics/get"),
    "ml.get_data_frame_analytics_stats": r(
        "cluster:monitor/xpack/ml/data_frame/analytics/stats/get"),
    "ml.put_data_frame_analytics": r("cluster:admin/xpack/ml/data_frame/analytics/put",
                                     body="opaque"),
    "ml.update_data_frame_analytics": r("cluster:admin/xpack/ml/data_frame/analytics/update",
                                        body="opaque"),
    "ml.delete_data_frame_analytics": r("cluster:admin/xpack/ml/data_frame/analytics/delete"),
    "ml.start_data_frame_analytics": r("cluster:admin/xpack/ml/data_frame/analytics/start",
                                       body="opaque"),
    "ml.stop_data_frame_analytics": r("cluster:admin/xpack/ml/data_frame/analytics/stop"),
    "ml.evaluate_data_frame": r("cluster:monitor/xpack/ml/data_frame/evaluate", body="opaque"),
    # spec: monitor_ml; ES's action is cluster:admin/...explain|preview (manage_ml). Keep the
    # annotation: a derived monitor name, so monitor_ml holders are not refused by the gateway.
    "ml.explain_data_frame_analytics": d("cluster:monitor/xpack/ml/data_frame/analytics/explain",
                                         body="opaque"),
    "ml.preview_data_frame_analytics": d("cluster:monitor/xpack/ml/data_frame/analytics/preview",
                                         body="opaque"),
    "ml.get_trained_models": r("cluster:monitor/xpack/ml/inference/get"),
    "ml.get_trained_models_stats": r("cluster:monitor/xpack/ml/inference/stats/get"),
    "ml.put_trained_model": r("cluster:admin/xpack/ml/inference/put"),
    "ml.delete_trained_model": r("cluster:admin/xpack/ml/inference/delete"),
    "ml.put_trained_model_alias": r("cluster:admin/xpack/ml/inference/model_aliases/put"),
    "ml.delete_trained_model_alias": r("cluster:admin/xpack/ml/inference/model_aliases/delete"),
    "ml.put_trained_model_definition_part": r("cluster:admin/xpack/ml/trained_models/part/put"),
    "ml.put_trained_model_vocabulary": r("cluster:admin/xpack/ml/trained_models/vocabulary/put"),
    "ml.start_trained_model_deployment": r(
        "cluster:admin/xpack/ml/trained_models/deployment/start"),
    "ml.stop_trained_model_deployment": r("cluster:admin/xpack/ml/trained_models/deployment/stop"),
    "ml.update_trained_model_deployment": r(
        "cluster:admin/xpack/ml/trained_models/deployment/update"),
    "ml.clear_trained_model_deployment_cache": r(
        "cluster:admin/xpack/ml/trained_models/deployment/clear_cache"),
    "ml.infer_trained_model": r("cluster:monitor/xpack/ml/trained_models/deployment/infer"),
    # --- connectors -------------------------------------------------------------------------------
    "connector.check_in": r("cluster:admin/xpack/connector/check_in"),
    "connector.delete": r("cluster:admin/xpack/connector/delete"),
    "connector.get": r("cluster:admin/xpack/connector/get"),
    "connector.last_sync": r("cluster:admin/xpack/connector/update_last_sync_stats"),
    "connector.list": r("cluster:admin/xpack/connector/list"),
    "connector.post": r("cluster:admin/xpack/connector/post"),
    "connector.put": r("cluster:admin/xpack/connector/put"),
    "connector.secret_get": r("cluster:admin/xpack/connector/secret/get"),
    "connector.secret_post": r("cluster:admin/xpack/connector/secret/post"),
    "connector.secret_put": r("cluster:admin/xpack/connector/secret/put"),
    "connector.secret_delete": r("cluster:admin/xpack/connector/secret/delete"),
    "connector.sync_job_cancel": r("cluster:admin/xpack/connector/sync_job/cancel"),
    "connector.sync_job_check_in": r("cluster:admin/xpack/connector/sync_job/check_in"),
    "connector.sync_job_claim": r("cluster:admin/xpack/connector/sync_job/claim"),
    "connector.sync_job_delete": r("cluster:admin/xpack/connector/sync_job/delete"),
    "connector.sync_job_error": r("cluster:admin/xpack/connector/sync_job/update_error"),
    "connector.sync_job_get": r("cluster:admin/xpack/connector/sync_job/get"),
    "connector.sync_job_list": r("cluster:admin/xpack/connector/sync_job/list"),
    "connector.sync_job_post": r("cluster:admin/xpack/connector/sync_job/post"),
    "connector.sync_job_update_stats": r("cluster:admin/xpack/connector/sync_job/update_stats"),
    "connector.update_active_filtering": r("cluster:admin/xpack/connector/update_filtering/activate"),
    "connector.update_api_key_id": r("cluster:admin/xpack/connector/update_api_key_id"),
    "connector.update_configuration": r("cluster:admin/xpack/connector/update_configuration"),
    "connector.update_error": r("cluster:admin/xpack/connector/update_error"),
    "connector.update_features": r("cluster:admin/xpack/connector/update_features"),
    "connector.update_filtering": r("cluster:admin/xpack/connector/update_filtering"),
    "connector.update_filtering_validation": r(
        "cluster:admin/xpack/connector/update_filtering/draft_validation"),
    "connector.update_index_name": r("cluster:admin/xpack/connector/update_index_name"),
    "connector.update_name": r("cluster:admin/xpack/connector/update_name"),
    "connector.update_native": r("cluster:admin/xpack/connector/update_native"),
    "connector.update_pipeline": r("cluster:admin/xpack/connector/update_pipeline"),
    "connector.update_scheduling": r("cluster:admin/xpack/connector/update_scheduling"),
    "connector.update_service_type": r("cluster:admin/xpack/connector/update_service_type"),
    "connector.update_status": r("cluster:admin/xpack/connector/update_status"),
}

# Provider-specific inference endpoints share `PUT /_inference/{task_type}/{id}` with
# inference.put (which wins the route, being first); all are the same transport action.
for _provider in ("ai21", "alibabacloud", "amazonbedrock", "amazonsagemaker", "anthropic",
                  "azureaistudio", "azureopenai", "cohere", "contextualai", "custom", "deepseek",
                  "elasticsearch", "elser", "fireworksai", "googleaistudio", "googlevertexai",
                  "groq", "hugging_face", "jinaai", "llama", "mistral", "nvidia", "openai",
                  "openshift_ai", "voyageai", "watsonx"):
    RULES["inference.put_" + _provider] = r("cluster:admin/xpack/inference/put")

# (name, path) -> refinements over RULES[name].
PATH_RULES = {
    # Auto-id index: RestIndexAction.AutoIdHandler puts op_type=create if absent.
    ("index", "/{index}/_doc"): dict(action="indices:data/write/index:op_type/create",
                                     op_type="default_create"),
    # `{name}` here is a setting-name filter, `{metric}` a stats metric: not index names.
    ("indices.get_settings", "/_settings/{name}"): dict(index_param=""),
}


def die(msg):
    print(f"gen_routes.py: {msg}", file=sys.stderr)
    sys.exit(1)


def read_tsv(path):
    spec_commit = "unknown"
    rows = []
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if line.startswith("#"):
                m = re.search(r"commit ([0-9a-f]{40})", line)
                if m:
                    spec_commit = m.group(1)
                continue
            if not line.strip():
                continue
            cols = line.split("\t")
            if cols[0] == "name":
                continue
            if len(cols) != 7:
                die(f"{path}:{lineno}: expected 7 columns, got {len(cols)}")
            name, methods, upath, idx, clu, _media, avail = cols
            rows.append(dict(name=name, methods=methods.split(","), path=upath,
                             index_privileges=[] if idx == "-" else idx.split(","),
                             cluster_privileges=[] if clu == "-" else clu.split(","),
                             availability=avail, lineno=lineno))
    return spec_commit, rows


METHOD_BITS = {"GET": "get", "POST": "post", "PUT": "put", "DELETE": "del", "OPTIONS": "options",
               "HEAD": "head", "PATCH": "patch", "TRACE": "trace", "CONNECT": "connect"}


def segments_of(path):
    if not path.startswith("/"):
        die(f"path without leading '/': {path}")
    segs = path.split("/")[1:]
    if segs == [""]:
        return []
    for s in segs:
        if not s:
            die(f"empty segment in {path}")
        if ("{" in s or "}" in s) and not re.fullmatch(r"\{[A-Za-z_][A-Za-z0-9_]*\}", s):
            die(f"partial placeholder in {path}")
    return segs


def params_of(segs):
    return [s[1:-1] for s in segs if s.startswith("{")]


def is_cluster_action(action):
    # CLPRIV isClusterAction: index-template actions are cluster actions.
    return (action.startswith("cluster:") or action.startswith("indices:admin/template/")
            or action.startswith("indices:admin/index_template/"))


def classify(row):
    name, path = row["name"], row["path"]
    rule = dict(RULES.get(name, {}))
    rule.update(PATH_RULES.get((name, path), {}))
    bad = set(rule) - KEYS
    if bad:
        die(f"unknown rule keys {bad} for {name}")
    segs = segments_of(path)
    params = params_of(segs)
    action = rule.get("action", "")
    origin = rule.get("origin", "none")
    if "kind" in rule:
        kind = rule["kind"]
    elif not action:
        kind = "unclassified"
    elif is_cluster_action(action):
        kind = "cluster"
    elif action.startswith("indices:"):
        kind = "index"
    else:
        die(f"cannot infer kind of {name} from {action}")
    if kind not in KINDS:
        die(f"bad kind {kind} for {name}")
    if kind == "unclassified":
        action, origin = "", "none"

    index_param = ""
    second = ""
    if kind in ("index", "index_name_only"):
        if "index_param" in rule:
            index_param = rule["index_param"]
        elif "index" in params:
            index_param = "index"
        if index_param and index_param not in params:
            # e.g. `/_data_stream` (no name): all the identity can see.
            index_param = ""
        second = rule.get("second", "")
        if second not in params:
            second = ""
    multi = rule.get("multi", True) if kind in ("index", "index_name_only") else False
    body = rule.get("body", "none")
    if body not in BODIES:
        die(f"bad body {body} for {name}")
    context = rule.get("context", "none")
    if context not in CONTEXTS:
        die(f"bad context {context} for {name}")
    context_param = rule.get("context_param", "")
    if context_param not in params:
        context_param = ""
    op_type = rule.get("op_type", "none")
    if op_type not in OP_TYPES:
        die(f"bad op_type {op_type} for {name}")
    target_action = rule.get("target_action", "")
    cluster_action = rule.get("cluster_action", "")
    if cluster_action and not is_cluster_action(cluster_action):
        die(f"cluster_action {cluster_action} of {name} is not a cluster action")
    if kind == "index" and is_cluster_action(action):
        die(f"{name}: kind index with cluster action {action}")
    if kind == "cluster" and not is_cluster_action(action):
        die(f"{name}: kind cluster with index action {action}")
    methods = row["methods"]
    for m in methods:
        if m not in METHOD_BITS:
            die(f"unknown method {m} in {name}")
    return dict(name=name, path=path, segs=segs, methods=methods, action=action, origin=origin,
                kind=kind, index_param=index_param, second=second, multi=multi, body=body,
                target_action=target_action, cluster_action=cluster_action, context=context,
                context_param=context_param, op_type=op_type,
                index_privileges=row["index_privileges"],
                cluster_privileges=row["cluster_privileges"])


def cstr(s):
    if any(c in s for c in '"\\\n') or not s.isprintable():
        die(f"unexpected character in {s!r}")
    return f'"{s}"'


def main():
    if len(sys.argv) != 2:
        die("usage: gen_routes.py <es-endpoints.tsv>")
    spec_commit, rows = read_tsv(sys.argv[1])
    names = {r_["name"] for r_ in rows}
    for n in RULES:
        if n not in names:
            die(f"rule for unknown endpoint {n}")
    for (n, p) in PATH_RULES:
        if not any(r_["name"] == n and r_["path"] == p for r_ in rows):
            die(f"path rule for unknown row {n} {p}")

    eps = [classify(r_) for r_ in rows]

    # Shared arrays: segments and privilege lists.
    arrays = {}

    def array_of(items):
        key = tuple(items)
        if not key:
            return None
        if key not in arrays:
            arrays[key] = f"k_a{len(arrays)}"
        return arrays[key]

    for e in eps:
        e["segs_ref"] = array_of(e["segs"])
        e["ip_ref"] = array_of(e["index_privileges"])
        e["cp_ref"] = array_of(e["cluster_privileges"])
    all_params = sorted({p for e in eps for p in params_of(e["segs"])})

    out = []
    w = out.append
    w("// clang-format off")
    w("// GENERATED FILE - do not edit.")
    w("// Generated by: /usr/bin/python3 scripts/gen_routes.py "
      "/work/shared/data/es-endpoints.tsv > gateway/es/routes_generated.cpp")
    w("// From es-endpoints.tsv: elastic/elasticsearch-specification (Apache-2.0) commit")
    w(f"// {spec_commit}; action mapping from scripts/gen_routes.py (RULES).")
    counts = {k: sum(1 for e in eps if e["kind"] == k) for k in KINDS}
    mapped = sum(1 for e in eps if e["action"])
    w(f"// Rows: {len(eps)}; with an action: {mapped} "
      f"(es: {sum(1 for e in eps if e['origin'] == ES)}, "
      f"derived: {sum(1 for e in eps if e['origin'] == DERIVED)}); "
      + ", ".join(f"{k}: {v}" for k, v in counts.items()) + ".")
    w("")
    w('#include "esgate/es/routes.hpp"')
    w("")
    w("#include <array>")
    w("")
    w("namespace esgate::es {")
    w("namespace {")
    w("")
    w("using sv = std::string_view;")
    w("constexpr method_set GET = bit(http_method::get), POST = bit(http_method::post),")
    w("                     PUT = bit(http_method::put), DEL = bit(http_method::del),")
    w("                     HEAD = bit(http_method::head);")
    w("")
    for items, ref in arrays.items():
        w(f"constexpr std::array<sv, {len(items)}> {ref}{{"
          + ", ".join(cstr(s) for s in items) + "};")
    w("")
    w(f"constexpr std::array<endpoint, {len(eps)}> k_endpoints{{{{")
    mnames = {"GET": "GET", "POST": "POST", "PUT": "PUT", "DELETE": "DEL", "HEAD": "HEAD"}
    for e in eps:
        def span(ref):
            return f"std::span<const sv>{{{ref}}}" if ref else "{}"
        methods = " | ".join(mnames[m] for m in e["methods"])
        w("  endpoint{"
          f"{cstr(e['name'])}, {cstr(e['path'])}, {span(e['segs_ref'])}, "
          f"static_cast<method_set>({methods}), {cstr(e['action'])}, "
          f"endpoint_kind::{e['kind']}, action_origin::{e['origin']}, "
          f"{cstr(e['index_param'])}, {cstr(e['second'])}, "
          f"{'true' if e['multi'] else 'false'}, {'true' if e['body'] != 'none' else 'false'}, "
          f"body_targets::{e['body']}, {cstr(e['target_action'])}, {cstr(e['cluster_action'])}, "
          f"context_kind::{e['context']}, {cstr(e['context_param'])}, "
          f"op_type_rule::{e['op_type']}, {span(e['ip_ref'])}, {span(e['cp_ref'])}}},")
    w("}};")
    w("")
    w(f"constexpr std::array<sv, {len(all_params)}> k_path_params{{"
      + ", ".join(cstr(p) for p in all_params) + "};")
    w("")
    w("}  // namespace")
    w("")
    w("std::span<const endpoint> all_endpoints() noexcept { return k_endpoints; }")
    w("")
    w("std::span<const std::string_view> path_param_names() noexcept { return k_path_params; }")
    w("")
    w("}  // namespace esgate::es")
    print("\n".join(out))

    unclassified = [e for e in eps if e["kind"] == "unclassified"]
    print(f"gen_routes.py: {len(eps)} rows, {mapped} with an action, "
          f"{counts['served']} served, {len(unclassified)} unclassified", file=sys.stderr)


if __name__ == "__main__":
    main()
