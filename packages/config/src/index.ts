// @lnsd/config: parsers and writers for the l2tpns configuration files (startup-config, ip_pool,
// users), the table of startup-config variables, and CLI password checks. Pure functions of text,
// plus thin readers; runs on the control thread.
export { Problems, fileLines, formatConfigError, type ConfigError, type ConfigResult } from "./errors.js";
export {
  STARTUP_VARIABLES,
  defaultSettings,
  findVariable,
  isVariableName,
  type SettingValue,
  type StartupSettings,
  type StartupVariableName,
  type StringFormat,
  type VariableKind,
  type VariableOrigin,
  type VariableSection,
  type VariableSpec,
  type VariableStatus,
} from "./variables.js";
export {
  SYSLOG_FACILITIES,
  formatSpecValue,
  parseSettingValue,
  parseSpecValue,
  sameValue,
  type ValueResult,
} from "./values.js";
export {
  TCP_FLAGS,
  checkAccessListName,
  formatExtendedRule,
  formatStandardRule,
  parseExtendedRule,
  parseStandardRule,
  type AccessList,
  type AclAction,
  type AclType,
  type AddressMatch,
  type ExtendedRule,
  type PortMatch,
  type RuleResult,
  type StandardRule,
  type TcpFlag,
  type TcpFlagsMatch,
} from "./acl.js";
export {
  BGP_DEFAULT_HOLD_TIME_SECONDS,
  BGP_DEFAULT_KEEPALIVE_SECONDS,
  type BgpConfig,
  type BgpNeighbour,
} from "./bgp.js";
export {
  parseStartupConfig,
  writeStartupConfig,
  type RemoteLnsForward,
  type StartupConfig,
  type WriteOptions,
} from "./startup-config.js";
export {
  formatPoolRange,
  parseIpPool,
  poolRangeAddresses,
  poolRangeSize,
  poolRangesFor,
  poolSize,
  type IpPool,
  type IpPoolRange,
} from "./ip-pool.js";
export {
  ENABLE_USER,
  checkSystemCrypt,
  parseStoredPassword,
  parseUsers,
  verifyCliLogin,
  verifyPassword,
  type CliUser,
  type PasswordResult,
  type StoredPassword,
  type UsersFile,
} from "./users.js";
export { md5Crypt } from "./md5-crypt.js";
export { systemCrypt } from "./system-crypt.js";
export { desCrypt, isDesCryptHash } from "./des-crypt.js";
export { readConfigFile, readIpPoolFile, readStartupConfigFile, readUsersFile } from "./read.js";
export { renderConfigDocs } from "./docs.js";
