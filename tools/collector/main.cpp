// tier0watch-collector: the central HTTPS collector (see docs/collector.md).
//   serve --config FILE           run until SIGTERM/SIGINT
//   agents enroll NAME            create an agent token (printed once, stored as a hash)
//   agents list | revoke NAME | rotate NAME
//   sites add NAME [--max-uses N] [--expires-in-hours H] | list | revoke NAME
//                                 site enrolment secrets (printed once, stored as a hash)
//   users add NAME                create a dashboard user (password from stdin, or generated)
//   config defaults | check       print the embedded defaults / validate a file
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <iostream>
#include <nlohmann/json.hpp>

#include "tools/collector/admin_commands.h"
#include "tools/collector/collector_app.h"
#include "tools/collector/config.h"
#include "tools/collector/security.h"
#include "tools/collector/service.h"
#include "tools/collector/sql_conn.h"

namespace {

using namespace t0w::collector;

int fail(const std::string& message) {
  std::cerr << "tier0watch-collector: " << message << "\n";
  return 1;
}

t0w::Result<CollectorConfig> loadConfig(const std::string& path) {
  if (path.empty()) return parseConfig("", "defaults");
  return loadConfigFile(path);
}

t0w::Result<std::unique_ptr<Storage>> openFromConfig(const CollectorConfig& c) {
  if (auto s = createPrivateDirectory(c.state_dir); !s) return s.error();
  return openStorage(c.storage_driver, c.storageTarget(),
                     StorageOptions{c.sqlite_synchronous == "full", c.search_index});
}

}  // namespace

int main(int argc, char** argv) {
  t0w::collector::configureSqliteForCollector();
  CLI::App app{"tier0watch-collector: Tier0Watch central collector"};
  app.require_subcommand(1);
  std::string config_path;
  app.add_option("--config", config_path, "YAML configuration file (default: built-in defaults)")
      ->check(CLI::ExistingFile);
  app.fallthrough();
  auto* serve = app.add_subcommand("serve", "Run the collector until SIGTERM/SIGINT");

  auto* agents = app.add_subcommand("agents", "Manage agent enrolment");
  agents->require_subcommand(1);
  std::string agent_name;
  auto* enroll = agents->add_subcommand("enroll", "Create an agent token (printed once)");
  enroll->add_option("NAME", agent_name, "Agent name (letters, digits, - _ . @)")->required();
  auto* list = agents->add_subcommand("list", "List enrolled agents");
  auto* revoke = agents->add_subcommand("revoke", "Refuse an agent's credential from now on");
  revoke->add_option("NAME", agent_name, "Agent name")->required();
  auto* rotate =
      agents->add_subcommand("rotate", "Issue a new credential for an agent (printed once)");
  rotate->add_option("NAME", agent_name, "Agent name")->required();

  auto* sites = app.add_subcommand("sites", "Manage site enrolment secrets");
  sites->require_subcommand(1);
  std::string site_name;
  int64_t site_max_uses = 0;
  int64_t site_expires_hours = 0;
  auto* site_add = sites->add_subcommand(
      "add", "Create a site enrolment secret that many agents exchange for their own credential");
  site_add->add_option("NAME", site_name, "Site name (letters, digits, - _ . @)")->required();
  site_add->add_option("--max-uses", site_max_uses, "Agents it may enrol (default: any)");
  site_add->add_option("--expires-in-hours", site_expires_hours,
                       "Hours until it expires (default: never)");
  auto* site_list = sites->add_subcommand("list", "List site enrolment secrets");
  auto* site_revoke = sites->add_subcommand("revoke", "Refuse a site enrolment secret");
  site_revoke->add_option("NAME", site_name, "Site name")->required();

  auto* users = app.add_subcommand("users", "Manage dashboard users");
  users->require_subcommand(1);
  std::string user_name;
  bool password_stdin = false;
  auto* add = users->add_subcommand("add", "Create a dashboard user");
  add->add_option("NAME", user_name, "User name")->required();
  add->add_flag("--password-stdin", password_stdin,
                "Read the password from the first line of stdin (otherwise one is generated "
                "and printed once)");

  auto* config = app.add_subcommand("config", "Configuration helpers");
  config->require_subcommand(1);
  auto* defaults = config->add_subcommand("defaults", "Print the embedded default configuration");
  auto* check = config->add_subcommand("check", "Validate a configuration file");
  check->add_option("FILE", config_path)->required()->check(CLI::ExistingFile);
  for (CLI::App* sub : {serve, agents, enroll, list, revoke, rotate, sites, site_add, site_list,
                        site_revoke, users, add, config, defaults}) {
    sub->fallthrough();
  }
  CLI11_PARSE(app, argc, argv);

  if (defaults->parsed()) {
    std::cout << defaultConfigYaml();
    return 0;
  }
  auto cfg = loadConfig(config_path);
  if (!cfg) return fail(cfg.error().message);
  if (check->parsed()) {
    std::cout << config_path << ": valid\n";
    return 0;
  }
  spdlog::set_default_logger(spdlog::stderr_color_mt("collector"));
  spdlog::set_level(spdlog::level::from_str(cfg->log_level));

  if (serve->parsed()) {
    auto service = CollectorService::create(*cfg);
    if (!service) return fail(service.error().toString());
    auto port = (*service)->start();
    if (!port) return fail(port.error().toString());
    // One machine-readable line for scripts (the port matters when listen.port is 0).
    std::cout << nlohmann::json{{"listening", *port}, {"address", cfg->listen_address}}.dump()
              << std::endl;
    (*service)->runUntilSignal();
    return 0;
  }
  auto storage = openFromConfig(*cfg);
  if (!storage) return fail(storage.error().toString());
  const AdminIo io{std::cout, std::cerr, systemNowMicros()};
  if (enroll->parsed()) return enrollAgentCommand(**storage, agent_name, io);
  if (list->parsed()) return listAgentsCommand(**storage, io);
  if (revoke->parsed()) return revokeAgentCommand(**storage, agent_name, io);
  if (rotate->parsed()) return rotateAgentCommand(**storage, agent_name, io);
  if (site_add->parsed()) {
    SiteOptions options;
    if (site_add->count("--max-uses") > 0) options.max_uses = site_max_uses;
    if (site_add->count("--expires-in-hours") > 0) options.expires_in_hours = site_expires_hours;
    return addSiteCommand(**storage, site_name, options, io);
  }
  if (site_list->parsed()) return listSitesCommand(**storage, io);
  if (site_revoke->parsed()) return revokeSiteCommand(**storage, site_name, io);
  if (add->parsed()) {
    if (!validName(user_name)) return fail("user name must be 1-128 of letters, digits, - _ . @");
    std::string password;
    bool generated = false;
    if (password_stdin) {
      std::getline(std::cin, password);
      if (!password.empty() && password.back() == '\r') password.pop_back();
      if (password.size() < 12) return fail("the password must have at least 12 characters");
    } else {
      auto p = randomHex(12);
      if (!p) return fail(p.error().toString());
      password = *p;
      generated = true;
    }
    auto user = hashPassword(user_name, password, kPbkdf2Iterations, systemNowMicros());
    if (!user) return fail(user.error().toString());
    if (auto s = (*storage)->addUser(*user); !s) return fail(s.error().message);
    std::cerr << "Created dashboard user " << user_name << ".\n";
    if (generated) {
      std::cerr << "Generated password (shown only now):\n";
      std::cout << password << std::endl;
    }
    return 0;
  }
  return 0;
}
