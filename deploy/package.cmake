# deploy/package.cmake - `cmake --build build --target package` makes the Debian package
# loyaltygw_<version>_<arch>.deb with CPack (included from the top CMakeLists.txt):
#   /usr/sbin/loyaltygw, /usr/sbin/loyalty-admin, /usr/bin/loyaltyctl
#   /etc/loyaltygw/         example configuration (conffiles: an upgrade never overwrites edits)
#   /lib/systemd/system/    loyaltygw@.service, loyalty-admin.service
#   /etc/logrotate.d/loyaltygw
#   /usr/share/loyaltygw/   the console's web files, the Grafana dashboard, Redis example
#   /usr/share/doc/loyaltygw/ README, docs/*.md, redis-ops.md, examples (nginx, redis.conf, the
#                           Redis ACL template and redis-acl.sh, sentinel.conf, stunnel-redis.conf)
#   /usr/share/man/         loyaltygw(8), loyalty-admin(8), loyaltyctl(1)
# Maintainer scripts (deploy/debian): a system user loyaltygw, /var/lib/loyaltygw, config
# readable by that user only; nothing is started before the configuration is edited.
# Depends: the shared libraries found by dpkg-shlibdeps (libsystemd0 among them: sd_notify is
# not optional in a packaged build), redis-server, tzdata (the loyalty table's zone), adduser.
# Tested by tests/it/test_package.sh.
include(GNUInstallDirs)

set(LGW_DOC share/doc/loyaltygw)
install(TARGETS loyaltygw loyalty-admin RUNTIME DESTINATION ${CMAKE_INSTALL_SBINDIR})
install(TARGETS loyaltyctl RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

set(LGW_ETC_FILES loyaltygw.json loyalty-table.json ussd-menus.json catalog.json giftdays.json)
set(LGW_CONFFILES "")
foreach(f ${LGW_ETC_FILES})
  install(FILES ${PROJECT_SOURCE_DIR}/deploy/${f} DESTINATION /etc/loyaltygw
          PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ)
  string(APPEND LGW_CONFFILES "/etc/loyaltygw/${f}\n")
endforeach()
install(FILES ${PROJECT_SOURCE_DIR}/deploy/logrotate/loyaltygw DESTINATION /etc/logrotate.d)
string(APPEND LGW_CONFFILES "/etc/logrotate.d/loyaltygw\n")
file(WRITE ${PROJECT_BINARY_DIR}/debian/conffiles "${LGW_CONFFILES}")

install(FILES ${PROJECT_SOURCE_DIR}/deploy/systemd/loyaltygw@.service
              ${PROJECT_SOURCE_DIR}/deploy/systemd/loyalty-admin.service
        DESTINATION /lib/systemd/system)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/admin/web/ DESTINATION ${CMAKE_INSTALL_DATADIR}/loyaltygw/web)
install(FILES ${PROJECT_SOURCE_DIR}/deploy/grafana/loyaltygw-giftday.json
        DESTINATION ${CMAKE_INSTALL_DATADIR}/loyaltygw/grafana)

# docs and examples
file(GLOB LGW_DOCS CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/docs/*.md)
install(FILES ${PROJECT_SOURCE_DIR}/README.md ${LGW_DOCS} DESTINATION ${LGW_DOC})
install(FILES ${PROJECT_SOURCE_DIR}/deploy/nginx/loyalty-admin.conf
              ${PROJECT_SOURCE_DIR}/deploy/nginx/loyalty-admin-proxy.conf
        DESTINATION ${LGW_DOC}/examples/nginx)
install(FILES ${PROJECT_SOURCE_DIR}/deploy/redis.conf DESTINATION ${LGW_DOC}/examples)
# Redis locked down and highly available (redis-ops.md): the ACL template and the script that makes
# the ACL file and the passwords from it (it finds the template beside itself), the Sentinel and
# stunnel examples
install(FILES ${PROJECT_SOURCE_DIR}/deploy/redis-ops.md DESTINATION ${LGW_DOC})
install(FILES ${PROJECT_SOURCE_DIR}/deploy/redis-users.acl.in ${PROJECT_SOURCE_DIR}/deploy/sentinel.conf
              ${PROJECT_SOURCE_DIR}/deploy/stunnel-redis.conf
        DESTINATION ${LGW_DOC}/examples)
install(PROGRAMS ${PROJECT_SOURCE_DIR}/deploy/redis-acl.sh DESTINATION ${LGW_DOC}/examples)
install(FILES ${PROJECT_SOURCE_DIR}/deploy/debian/copyright DESTINATION ${LGW_DOC})

# man pages, gzipped as Debian wants them
set(LGW_MANS docs/man/loyaltygw.8 docs/man/loyalty-admin.8 docs/man/loyaltyctl.1)
set(LGW_MAN_GZ "")
foreach(m ${LGW_MANS})
  get_filename_component(name ${m} NAME)
  string(REGEX REPLACE ".*\\." "" section ${name})
  set(gz ${PROJECT_BINARY_DIR}/man/${name}.gz)
  add_custom_command(OUTPUT ${gz}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${PROJECT_BINARY_DIR}/man
    COMMAND gzip -9n -c ${PROJECT_SOURCE_DIR}/${m} > ${gz}
    DEPENDS ${PROJECT_SOURCE_DIR}/${m} COMMENT "gzip ${name}")
  list(APPEND LGW_MAN_GZ ${gz})
  install(FILES ${gz} DESTINATION ${CMAKE_INSTALL_MANDIR}/man${section})
endforeach()
add_custom_target(man-pages ALL DEPENDS ${LGW_MAN_GZ})

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME loyaltygw)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "Loyalty gateway team")
set(CPACK_PACKAGE_CONTACT "Loyalty gateway operations <ops@example.net>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "carrier loyalty gateway: SMPP recharges to points in Redis, USSD, gifts, staff console")
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "loyaltygw binds to the carrier's SMSC over SMPP 3.4 and turns prepaid recharge events into \
loyalty points in Redis, exactly once. Subscribers use USSD (*555#) and SMS; gifts are redeemed \
and fulfilled through the carrier's provisioning API; marketing and care use the staff console \
(loyalty-admin) behind nginx. Includes systemd units, Prometheus metrics and a Grafana dashboard.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "redis-server (>= 5:7.0), tzdata, adduser")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "nginx, prometheus, logrotate")
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://example.net/loyaltygw")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${PROJECT_BINARY_DIR}/debian/conffiles
    ${PROJECT_SOURCE_DIR}/deploy/debian/postinst
    ${PROJECT_SOURCE_DIR}/deploy/debian/prerm
    ${PROJECT_SOURCE_DIR}/deploy/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_STRIP_FILES ON)
include(CPack)
