// The SFTP server's public face: start it over a SiteBackend; its limits from the environment.
export { defaultSiteLimits } from './limits.js';
export { type SftpServer, type SftpServerOptions, startSftpServer } from './server.js';
export {
  SITE_FOLDERS,
  type SiteBackend,
  type SiteDownload,
  type SiteEntry,
  type SiteFolder,
  type SiteLimits,
} from './site.js';
