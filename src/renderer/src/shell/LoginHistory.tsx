// «История входов»: the session user's logins from the portal (time, address, method, result),
// newest first. A refusal reads as its catalogue title, never as a raw code.
import { useQuery } from '@tanstack/react-query'
import { Button, Drawer, Table, Tag } from 'antd'
import dayjs from 'dayjs'
import type { HTMLAttributes, ReactNode } from 'react'
import { useTranslation } from 'react-i18next'
import { describeError } from '../../../shared/errors'
import { errorData } from '../api'
import { ErrorAlert } from '../components/ErrorAlert'
import { useApi } from '../context'
import { historyResult } from '../login/password-model'

export interface LoginHistoryProps {
  open: boolean
  onClose: () => void
}

interface Row {
  key: number
  at: string
  address: string | null
  method: 'eds' | 'password' | 'otp' | 'refresh' | 'reset'
  result: string
}

export function LoginHistory({ open, onClose }: LoginHistoryProps): ReactNode {
  const { t } = useTranslation()
  const api = useApi()
  const history = useQuery({
    queryKey: ['auth.loginHistory'],
    queryFn: () => api.call('auth.loginHistory', {}),
    enabled: open,
    staleTime: 0,
    retry: false,
  })
  const rows: Row[] = (history.data?.entries ?? []).map((e, i) => ({ key: i, ...e }))

  return (
    <Drawer
      open={open}
      onClose={onClose}
      title={t('history.title')}
      size={760}
      destroyOnHidden
      extra={
        <Button onClick={onClose} data-testid="history-close">
          {t('history.close')}
        </Button>
      }
    >
      <div data-testid="history" data-state={history.isPending ? 'loading' : history.isError ? 'error' : 'ready'}>
        <p className="history__lead">{t('history.lead')}</p>
        {history.isError ? (
          <ErrorAlert
            error={errorData(history.error)}
            testId="history-error"
            action={<Button onClick={() => void history.refetch()}>{t('login.refresh')}</Button>}
          />
        ) : (
          <Table<Row>
            size="small"
            loading={history.isPending}
            dataSource={rows}
            pagination={rows.length > 20 ? { pageSize: 20, showSizeChanger: false } : false}
            locale={{ emptyText: t('history.empty') }}
            onRow={(r) => ({ 'data-testid': 'history-row', 'data-method': r.method, 'data-result': r.result }) as HTMLAttributes<HTMLElement>}
            columns={[
              {
                title: t('history.at'),
                dataIndex: 'at',
                render: (at: string) => <span className="mono">{dayjs(at).format('DD.MM.YYYY HH:mm:ss')}</span>,
              },
              { title: t('history.address'), dataIndex: 'address', render: (a: string | null) => a ?? '—' },
              { title: t('history.method'), dataIndex: 'method', render: (m: Row['method']) => t(`history.methods.${m}`) },
              {
                title: t('history.result'),
                dataIndex: 'result',
                render: (result: string) => {
                  const r = historyResult(result)
                  if (r.ok) return <Tag color="success">{t('history.ok')}</Tag>
                  return <Tag color="error">{r.code ? describeError({ code: r.code, params: {} }).title : t('history.failed')}</Tag>
                },
              },
            ]}
          />
        )}
      </div>
    </Drawer>
  )
}
